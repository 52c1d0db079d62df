import type { z } from 'zod';
import { csvConfig } from './csv/config.js';
import { elasticsearchSinkConfig } from './elasticsearch/config.js';
import { fileSinkConfig } from './file/config.js';
import { ndjsonConfig } from './ndjson/config.js';
import { httpSourceConfig } from './http/config.js';
import { postgresSinkConfig, postgresSourceConfig } from './postgres/config.js';
import { s3SourceConfig } from './s3/config.js';
import { redshiftSinkConfig } from './redshift/config.js';

/**
 * The config schemas of the connectors this version ships, by the name a job file uses in `extract.from`
 * / `load.to`. Only schemas here: validating a job must not load database drivers. The code of each
 * connector is loaded on demand through adapters/loaders.ts (a test keeps the two in step).
 */
export const SOURCE_CONFIG_BY_NAME: Record<string, z.ZodObject> = { csv: csvConfig, ndjson: ndjsonConfig, postgres: postgresSourceConfig, http: httpSourceConfig, s3: s3SourceConfig };
export const SINK_CONFIG_BY_NAME: Record<string, z.ZodObject> = { postgres: postgresSinkConfig, file: fileSinkConfig };
SINK_CONFIG_BY_NAME.elasticsearch = elasticsearchSinkConfig;
SINK_CONFIG_BY_NAME.redshift = redshiftSinkConfig;

export const SOURCE_CONFIGS = Object.values(SOURCE_CONFIG_BY_NAME);
export const SINK_CONFIGS = Object.values(SINK_CONFIG_BY_NAME);
