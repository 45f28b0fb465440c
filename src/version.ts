/** The BullMQ release whose public API Docket follows (docs/compatibility.md is checked against it). */
export const BULLMQ_API_VERSION = '6.7.0';

/**
 * What `queue.getVersion()` reports, in BullMQ's `<library>:<version>` form (BullMQ writes
 * `bullmq:<version>`, BullMQ Pro `bullmq-pro:<version>`): tools that read it see a BullMQ 6.7 API.
 */
export const LIBRARY_VERSION = `bullmq-docket:${BULLMQ_API_VERSION}`;

/** The event log's cap that `getMeta()` reports as `maxLenEvents` (BullMQ's default). */
export const EVENTS_MAX_LEN = 10_000;
