import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { config as redshiftConfig, createSink } from '../../adapters/redshift/index.js';
import type { RedshiftSinkSpec } from '../../adapters/redshift/config.js';
import { dataApiSession } from '../../adapters/redshift/data-api.js';
import { pgWireSession } from '../../adapters/redshift/pg-wire.js';
import type { RedshiftSession } from '../../adapters/redshift/session.js';
import { LoadError } from '../../src/core/errors.js';
import type { Row, Schema } from '../../src/core/schema.js';
import { testStageContext } from '../support/stage-context.js';
import { EVERY_TYPE, bufferedInput } from './typed-input.js';

/**
 * Opt-in: the same loads against a real Amazon Redshift, when its settings are in the environment.
 * REDSHIFT_STAGING (s3://bucket/prefix) and REDSHIFT_IAM_ROLE (a role the cluster may assume to read it),
 * then REDSHIFT_URL (wire protocol) and/or REDSHIFT_DATABASE with REDSHIFT_CLUSTER_IDENTIFIER +
 * REDSHIFT_DB_USER (or REDSHIFT_SECRET_ARN), or REDSHIFT_WORKGROUP (Data API). AWS credentials:
 * REDSHIFT_AWS_ACCESS_KEY_ID / REDSHIFT_AWS_SECRET_ACCESS_KEY [/ REDSHIFT_AWS_SESSION_TOKEN] and
 * REDSHIFT_AWS_REGION (`npm test` points the AWS_* variables at the local s3rver).
 */
const env = process.env;
const base = env.REDSHIFT_STAGING && env.REDSHIFT_IAM_ROLE;
const credentials = env.REDSHIFT_AWS_ACCESS_KEY_ID
  ? { access_key_id: '${env:REDSHIFT_AWS_ACCESS_KEY_ID}', secret_access_key: '${env:REDSHIFT_AWS_SECRET_ACCESS_KEY}', ...(env.REDSHIFT_AWS_SESSION_TOKEN ? { session_token: '${env:REDSHIFT_AWS_SESSION_TOKEN}' } : {}) }
  : {};
const region = env.REDSHIFT_AWS_REGION ? { region: env.REDSHIFT_AWS_REGION } : {};
const modes: Array<{ name: string; spec: Partial<RedshiftSinkSpec> | null; why: string }> = [
  { name: 'wire protocol', spec: base && env.REDSHIFT_URL ? { url: '${env:REDSHIFT_URL}' } : null, why: 'set REDSHIFT_URL, REDSHIFT_STAGING and REDSHIFT_IAM_ROLE to run against a real cluster' },
  {
    name: 'Data API',
    spec: base && env.REDSHIFT_DATABASE && (env.REDSHIFT_CLUSTER_IDENTIFIER || env.REDSHIFT_WORKGROUP)
      ? {
          data_api: {
            database: env.REDSHIFT_DATABASE,
            ...(env.REDSHIFT_WORKGROUP ? { workgroup_name: env.REDSHIFT_WORKGROUP } : { cluster_identifier: env.REDSHIFT_CLUSTER_IDENTIFIER! }),
            ...(env.REDSHIFT_SECRET_ARN ? { secret_arn: env.REDSHIFT_SECRET_ARN } : env.REDSHIFT_DB_USER ? { db_user: env.REDSHIFT_DB_USER } : {}),
            ...credentials,
            ...region,
          },
        }
      : null,
    why: 'set REDSHIFT_DATABASE, REDSHIFT_CLUSTER_IDENTIFIER (+ REDSHIFT_DB_USER or REDSHIFT_SECRET_ARN) or REDSHIFT_WORKGROUP, REDSHIFT_STAGING and REDSHIFT_IAM_ROLE to run against a real cluster',
  },
];

for (const mode of modes) {
  test(`[real Redshift, ${mode.name}] loads every type, upserts, refuses a bad value with STL_LOAD_ERRORS rows, and never loads a run twice`, { skip: mode.spec === null ? mode.why : false }, async () => {
    const table = `datamill_test.t_${randomBytes(4).toString('hex')}`;
    const spec = (extra: Partial<RedshiftSinkSpec> = {}) =>
      redshiftConfig.parse({ to: 'redshift', table, staging: env.REDSHIFT_STAGING, iam_role: env.REDSHIFT_IAM_ROLE, s3: { ...credentials, ...region }, ...mode.spec, ...extra });
    const ctx = testStageContext({ stage: 'load' });
    const config = spec();
    const session: RedshiftSession = config.data_api ? dataApiSession(config.data_api, ctx, 600_000) : await pgWireSession(config.url!, ctx);
    const load = async (schema: Schema, rows: Row[], run: string, extra: Partial<RedshiftSinkSpec> = {}) => {
      const buffered = await bufferedInput(schema, rows, { run });
      try {
        return await createSink(spec(extra)).load(testStageContext({ stage: 'load', run }), buffered.input);
      } finally {
        buffered.cleanup();
      }
    };
    try {
      const tricky = 'tab\there\nnew line\\backslash "quote", comma';
      await load(EVERY_TYPE, [[1, tricky, 0.25, '123.5', true, Date.UTC(2026, 0, 2, 3, 4, 5, 678), '2026-01-02', { a: 1 }], [2, null, null, null, null, null, null, null], [3, '', 1, '0', false, 0, '1970-01-01', 'x']], 'run-1', { mode: 'upsert', key: ['id'], sortkey: ['id'] });
      const again = await load(EVERY_TYPE, [[1, 'y', 0, '0', true, 0, '2026-01-01', null]], 'run-1', { mode: 'upsert', key: ['id'] });
      assert.equal(again.alreadyLoaded, true);
      await load(EVERY_TYPE, [[3, 'three', 3, '3', true, 0, '2026-01-03', null]], 'run-2', { mode: 'upsert', key: ['id'] });
      const rows = await session.query(`SELECT id, name, price, ok, day FROM ${table} ORDER BY id`);
      assert.deepEqual(rows.map((r) => [r.id, r.name]), [['1', tricky], ['2', null], ['3', 'three']]);
      await assert.rejects(load([{ name: 'id', type: 'string' }], [['1'], ['lots']], 'run-3'), (err: unknown) => {
        assert.ok(err instanceof LoadError);
        const found = err.details.load_errors as Array<{ column: string; value: string }>;
        assert.equal(found[0]?.column, 'id');
        assert.equal(found[0]?.value, 'lots');
        return true;
      });
      assert.equal((await session.query(`SELECT COUNT(*) AS n FROM ${table}`))[0]?.n, '3');
    } finally {
      await session.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
      await session.close();
    }
  });
}
