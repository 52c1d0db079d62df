/** The `postgres` connector: the sink (`load: { to: postgres, … }`) and the source (`extract: { from: postgres, … }`). */
export { postgresSinkConfig as config, type PostgresSinkConfig, type PostgresSinkSpec } from './config.js';
export { createPostgresSink as createSink } from './sink.js';
export { postgresSourceConfig as sourceConfig, type PostgresSourceConfig, type PostgresSourceSpec } from './config.js';
export { createPostgresSource as createSource } from './source.js';
