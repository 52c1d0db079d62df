import { z } from 'zod';
import { checkLoadKey, durationSchema, sizeSchema } from '../../src/spec/common-schemas.js';
import { parseDuration, parseSize } from '../../src/spec/units.js';

export const ES_LOAD_MODES = ['append', 'upsert', 'replace'] as const;

/** Elasticsearch's own rules for index and alias names (lowercase, no separators, not `.`/`..`, ≤ 255 bytes). */
const INDEX_NAME = /^[a-z0-9][^\\/*?"<>| ,#:A-Z]*$/;

const nodeUrl = z.string().min(1).describe('Node URL (https://host:9200), normally a reference such as "${env:ELASTICSEARCH_URL}"');

export const elasticsearchSinkConfig = z
  .object({
    to: z.literal('elasticsearch'),
    node: z.union([nodeUrl, z.array(nodeUrl).min(1)]).describe('Node URL or URLs of the cluster; resolved from its reference only when connecting'),
    index: z
      .string()
      .regex(INDEX_NAME, 'index must be a valid Elasticsearch name: lowercase, starting with a letter or digit, without \\ / * ? " < > | , # : or spaces')
      .refine((n) => Buffer.byteLength(n) <= 200, 'index is at most 200 bytes (the run id is appended to it in mode replace)')
      .describe('Target index; in mode replace, the alias that points at the current run\'s index'),
    mode: z
      .enum(ES_LOAD_MODES)
      .default('append')
      .describe('append: index every row as a document; upsert: update documents by key, creating missing ones; replace: load a new index, then swap the alias to it'),
    key: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Columns whose values make each document\'s _id (upsert needs it); without it _id is the run id and the row number'),
    auth: z
      .union([
        z.strictObject({ api_key: z.string().min(1).describe('Encoded API key (base64 of id:key), normally "${env:…}"') }),
        z.strictObject({ username: z.string().min(1), password: z.string().min(1).describe('Normally "${env:…}" or "${file:…}"') }),
      ])
      .optional()
      .describe('Credentials: { api_key } or { username, password }'),
    tls: z
      .strictObject({
        ca: z.string().min(1).optional().describe('CA certificate: a PEM file relative to the job file, or "${file:…}"'),
        fingerprint: z.string().optional().describe('SHA-256 fingerprint of the CA certificate (as Elasticsearch prints it on first start)'),
        verify: z.boolean().default(true).describe('Verify the server certificate (turn off only for a test cluster)'),
      })
      .optional()
      .describe('TLS options for https nodes'),
    bulk: z
      .strictObject({
        bytes: sizeSchema.default('5MB').describe('Size of one _bulk request body (Elasticsearch recommends a few MB)'),
        concurrency: z.number().int().min(1).max(64).default(3).describe('_bulk requests in flight at once'),
        retries: z.number().int().min(0).max(100).default(8).describe('Times a request or document refused with 429 (too many requests) is sent again'),
        backoff: durationSchema.default('500ms').describe('Wait before the first 429 retry; doubles each time, with jitter'),
        max_backoff: durationSchema.default('30s').describe('Cap on the wait between 429 retries'),
      })
      .prefault({})
      .describe('How documents are sent'),
    mappings: z.record(z.string(), z.unknown()).optional().describe('Mappings merged over those derived from the input schema (properties field by field) when the sink creates an index'),
    settings: z.record(z.string(), z.unknown()).optional().describe('Index settings used when the sink creates an index (number_of_shards, analysis…)'),
    create: z.boolean().default(true).describe('append/upsert: create the index with mappings from the input schema when it does not exist'),
    refresh: z.boolean().default(true).describe('Refresh the index after the load, so the documents are searchable when the run succeeds'),
    max_reject_ratio: z.number().min(0).max(1).default(0).describe('Fail the load when documents refused by Elasticsearch / input rows is above this'),
    request_timeout: durationSchema.default('60s').describe('Timeout of one request'),
  })
  .strict()
  .superRefine((c, ctx) => checkLoadKey(c, ctx, 'the columns whose values make the document _id'))
  .describe('Load into an Elasticsearch index with _bulk requests');

export type ElasticsearchSinkSpec = z.input<typeof elasticsearchSinkConfig>;
export type ElasticsearchSinkConfig = z.output<typeof elasticsearchSinkConfig>;

/** The bulk options in milliseconds and bytes. */
export interface BulkOptions {
  bytes: number;
  concurrency: number;
  retries: number;
  backoffMs: number;
  maxBackoffMs: number;
}

export function bulkOptions(config: ElasticsearchSinkConfig): BulkOptions {
  const b = config.bulk;
  return { bytes: parseSize(b.bytes)!, concurrency: b.concurrency, retries: b.retries, backoffMs: parseDuration(b.backoff)!, maxBackoffMs: parseDuration(b.max_backoff)! };
}
