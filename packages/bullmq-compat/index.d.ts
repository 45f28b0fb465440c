export * from 'docket';
