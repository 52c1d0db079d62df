/** The `ndjson` connector: extract copies NDJSON files into the buffer; `reader` parses them for adapt. */
export { ndjsonConfig as config, type NdjsonConfig, type NdjsonConfigInput } from './config.js';
export { createNdjsonSource as createSource } from './source.js';
export { ndjsonReader as reader } from './reader.js';
