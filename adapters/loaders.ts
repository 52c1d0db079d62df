import type { RawReader, Sink, Source } from '../src/core/connector.js';

/**
 * The same connectors as adapters/index.ts, loaded on demand: a stage process imports only the one
 * connector it uses (extract never loads pg, load never loads fast-glob), which is start-up time paid
 * on every stage attempt. A test keeps the two registries in step.
 */
export const SOURCE_LOADERS: Record<string, () => Promise<(config: never) => Source>> = {
  csv: async () => (await import('./csv/source.js')).createCsvSource as (config: never) => Source,
  ndjson: async () => (await import('./ndjson/source.js')).createNdjsonSource as (config: never) => Source,
  postgres: async () => (await import('./postgres/source.js')).createPostgresSource as (config: never) => Source,
  http: async () => (await import('./http/source.js')).createHttpSource as (config: never) => Source,
  s3: async () => (await import('./s3/source.js')).createS3Source as (config: never) => Source,
};

export const SINK_LOADERS: Record<string, () => Promise<(config: never) => Sink>> = {
  postgres: async () => (await import('./postgres/sink.js')).createPostgresSink as (config: never) => Sink,
  file: async () => (await import('./file/sink.js')).createFileSink as (config: never) => Sink,
  elasticsearch: async () => (await import('./elasticsearch/sink.js')).createElasticsearchSink as (config: never) => Sink,
  redshift: async () => (await import('./redshift/sink.js')).createRedshiftSink as (config: never) => Sink,
};

export const RAW_READER_LOADERS: Record<'csv' | 'ndjson', () => Promise<RawReader>> = {
  csv: async () => (await import('./csv/reader.js')).csvReader,
  ndjson: async () => (await import('./ndjson/reader.js')).ndjsonReader,
};
