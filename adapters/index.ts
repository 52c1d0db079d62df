import type { z } from 'zod';
import type { RawReader, Sink, Source } from '../src/core/connector.js';
import * as csv from './csv/index.js';
import * as file from './file/index.js';
import * as ndjson from './ndjson/index.js';
import * as postgres from './postgres/index.js';

/** The connectors this version ships, by the name a job file uses in `extract.from` / `load.to`. */
export interface SourceConnector {
  config: z.ZodObject;
  createSource(config: never): Source;
  reader: RawReader;
}
export interface SinkConnector {
  config: z.ZodObject;
  createSink(config: never): Sink;
}

export const SOURCES: Record<string, SourceConnector> = {
  csv: csv as unknown as SourceConnector,
  ndjson: ndjson as unknown as SourceConnector,
};

export const SINKS: Record<string, SinkConnector> = {
  postgres: postgres as unknown as SinkConnector,
  file: file as unknown as SinkConnector,
};

/** Raw part formats extract may produce, and the reader adapt uses for each. */
export const RAW_READERS: Record<'csv' | 'ndjson', RawReader> = { csv: csv.reader, ndjson: ndjson.reader };

export const SOURCE_CONFIGS = Object.values(SOURCES).map((s) => s.config);
export const SINK_CONFIGS = Object.values(SINKS).map((s) => s.config);
