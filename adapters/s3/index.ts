/** The `s3` connector: extract copies CSV/NDJSON objects into the buffer; the csv/ndjson readers read them for adapt. */
export { s3SourceConfig as config, type S3SourceConfig } from './config.js';
export { createS3Source as createSource } from './source.js';
