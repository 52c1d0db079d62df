import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { config as redshiftConfig, createSink } from '../../adapters/redshift/index.js';
import type { RedshiftSinkSpec } from '../../adapters/redshift/config.js';
import type { CopyRunner } from '../../adapters/redshift/session.js';
import type { Row, Schema } from '../../src/core/schema.js';
import { testDatabase, type TestDatabase } from '../support/database.js';
import { copyFromS3, freshBucket, testS3Client } from '../support/redshift-data-standin/copy-from-s3.js';
import { startRedshiftDataStandin, type RedshiftDataStandin } from '../support/redshift-data-standin/server.js';
import { testStageContext } from '../support/stage-context.js';
import { bufferedInput } from './typed-input.js';

/**
 * The two connection modes of the Redshift sink, each against real servers: the test PostgreSQL (runs the
 * generated SQL) and s3rver (holds the staged files). `pg-wire` connects with pg and performs the COPY
 * step from the staged objects through the sink's copy hook; `data-api` drives the Data API SDK against
 * the in-repo stand-in, which translates only the COPY.
 */
export const MODES = ['pg-wire', 'data-api'] as const;
export type Mode = (typeof MODES)[number];

export interface Harness {
  mode: Mode;
  db: TestDatabase;
  s3: S3Client;
  bucket: string;
  standin: RedshiftDataStandin | null;
  /** The sink config for this mode, before the test's own keys. */
  spec(extra?: Partial<RedshiftSinkSpec>): RedshiftSinkSpec;
  copy: CopyRunner | undefined;
  load(schema: Schema, rows: Row[], spec?: Partial<RedshiftSinkSpec>, options?: { run?: string; partRows?: number }): ReturnType<typeof loadWith>;
  stagedKeys(): Promise<string[]>;
}

async function loadWith(h: Pick<Harness, 'spec' | 'copy'>, schema: Schema, rows: Row[], spec: Partial<RedshiftSinkSpec>, options: { run?: string; partRows?: number }) {
  const run = options.run ?? 'run-1';
  const buffered = await bufferedInput(schema, rows, { run, partRows: options.partRows });
  try {
    const ctx = testStageContext({ stage: 'load', run });
    const sink = createSink(redshiftConfig.parse(h.spec(spec)), { copy: h.copy });
    return { result: await sink.load(ctx, buffered.input), ctx };
  } finally {
    buffered.cleanup();
  }
}

export async function harness(mode: Mode, t: { after(fn: () => Promise<void>): void }): Promise<Harness> {
  const db = await testDatabase();
  const s3 = testS3Client();
  const bucket = await freshBucket(s3);
  process.env.DATAMILL_TEST_REDSHIFT_URL = db.url;
  const standin = mode === 'data-api' ? await startRedshiftDataStandin({ databaseUrl: db.url, s3 }) : null;
  t.after(async () => {
    await standin?.stop();
    await db.drop();
  });
  const connection: Partial<RedshiftSinkSpec> =
    mode === 'data-api'
      ? { data_api: { cluster_identifier: 'test-cluster', database: db.name, db_user: 'loader', endpoint: standin!.endpoint, region: 'us-east-1', poll: '20ms' } }
      : { url: db.url };
  const h: Harness = {
    mode, db, s3, bucket, standin,
    copy: mode === 'pg-wire' ? (client, plan) => copyFromS3(client, plan, s3, db.url) : undefined,
    spec: (extra = {}) => ({
      to: 'redshift',
      table: 'analytics.stats',
      staging: `s3://${bucket}/staging`,
      s3: { endpoint: '${env:DATAMILL_TEST_S3_ENDPOINT}', path_style: true, access_key_id: '${env:AWS_ACCESS_KEY_ID}', secret_access_key: '${env:AWS_SECRET_ACCESS_KEY}' },
      iam_role: 'arn:aws:iam::123456789012:role/datamill-copy',
      slices: 2,
      ...connection,
      ...extra,
    }) as RedshiftSinkSpec,
    load: (schema, rows, spec = {}, options = {}) => loadWith(h, schema, rows, spec, options),
    async stagedKeys() {
      const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      return (r.Contents ?? []).map((o) => o.Key!).sort();
    },
  };
  return h;
}
