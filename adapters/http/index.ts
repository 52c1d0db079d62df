/** The `http` source: `extract: { from: http, url, pagination, records, … }` reads a paginated JSON API. */
export { httpSourceConfig as config, type HttpSourceConfig, type HttpSourceSpec } from './config.js';
export { createHttpSource as createSource } from './source.js';
