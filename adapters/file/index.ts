/** The `file` sink: `load: { to: file, path: out/stats.csv }`. */
export { fileSinkConfig as config, type FileSinkConfig, type FileSinkSpec } from './config.js';
export { createFileSink as createSink } from './sink.js';
