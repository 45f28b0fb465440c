// Docket, under the name `bullmq`: the same module instances as import('docket').
export * from 'docket';
