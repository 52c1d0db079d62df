/** The `csv` connector: extract copies CSV files into the buffer; `reader` splits them for adapt. */
export { csvConfig as config, type CsvConfig, type CsvConfigInput } from './config.js';
export { createCsvSource as createSource } from './source.js';
export { csvReader as reader } from './reader.js';
