/** The `postgres` sink: `load: { to: postgres, … }`. */
export { postgresSinkConfig as config, type PostgresSinkConfig, type PostgresSinkSpec } from './config.js';
export { createPostgresSink as createSink } from './sink.js';
