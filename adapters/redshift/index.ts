/** The `redshift` sink: `load: { to: redshift, … }`. */
export { redshiftSinkConfig as config, type RedshiftSinkConfig, type RedshiftSinkSpec } from './config.js';
export { createRedshiftSink as createSink, type RedshiftSinkOptions } from './sink.js';
