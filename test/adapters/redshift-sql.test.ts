import { test } from 'node:test';
import assert from 'node:assert/strict';
import { config as redshiftConfig } from '../../adapters/redshift/index.js';
import { fileCount, FILE_TARGET_BYTES } from '../../adapters/redshift/csv-parts.js';
import * as sql from '../../adapters/redshift/sql.js';
import type { Schema } from '../../src/core/schema.js';
import { parseCopy } from '../support/redshift-data-standin/copy-statement.js';
import { testDatabase } from '../support/database.js';

const BASE = { to: 'redshift', table: 'analytics.stats', url: 'postgres://u:p@h:5439/dev', staging: 's3://bucket/prefix', iam_role: 'arn:aws:iam::123456789012:role/copy' };
const SCHEMA: Schema = [
  { name: 'day', type: 'date' },
  { name: 'site_id', type: 'integer' },
  { name: 'label', type: 'string' },
  { name: 'doc', type: 'json' },
];

test('the COPY statement reads the manifest with the IAM role as gzipped CSV with the null marker and ISO timestamps', () => {
  const text = sql.copySql('"datamill_staging"', ['day', 'site_id'], { manifestUrl: 's3://bucket/prefix/run/manifest.json', iamRole: 'arn:aws:iam::123456789012:role/copy', maxErrors: 0 });
  assert.equal(
    text,
    `COPY "datamill_staging" ("day", "site_id") FROM 's3://bucket/prefix/run/manifest.json' IAM_ROLE 'arn:aws:iam::123456789012:role/copy' MANIFEST FORMAT AS CSV GZIP NULL AS '\\\\N' TIMEFORMAT 'auto' DATEFORMAT 'YYYY-MM-DD' COMPUPDATE OFF STATUPDATE OFF`,
  );
  const withOptions = sql.copySql('"s"', ['a'], { manifestUrl: 's3://b/m.json', iamRole: 'default', region: 'eu-west-1', maxErrors: 10 });
  assert.match(withOptions, /IAM_ROLE default .* REGION 'eu-west-1' MAXERROR 10$/);
  assert.deepEqual(parseCopy(text), { table: '"datamill_staging"', columns: ['day', 'site_id'], manifestUrl: 's3://bucket/prefix/run/manifest.json', maxErrors: 0 });
});

test('a created table gets Redshift types, an informational primary key, and the DISTSTYLE/DISTKEY/SORTKEY/ENCODE the job asks for', () => {
  const t = sql.target('analytics', 'stats', sql.quoteIdent);
  const config = redshiftConfig.parse({ ...BASE, mode: 'upsert', key: ['day', 'site_id'], distkey: 'site_id', sortkey: ['day'], encode: { label: 'zstd', day: 'az64' } });
  assert.equal(
    sql.createTableSql(t, SCHEMA, config),
    'CREATE TABLE IF NOT EXISTS "analytics"."stats" ("day" DATE ENCODE AZ64, "site_id" BIGINT, "label" VARCHAR(65535) ENCODE ZSTD, "doc" VARCHAR(65535), PRIMARY KEY ("day", "site_id")) DISTSTYLE KEY DISTKEY ("site_id") COMPOUND SORTKEY ("day")',
  );
  const interleaved = redshiftConfig.parse({ ...BASE, diststyle: 'all', sortkey: ['day', 'site_id'], interleaved: true, encode: 'auto' });
  assert.equal(sql.tableAttributes(interleaved), 'DISTSTYLE ALL INTERLEAVED SORTKEY ("day", "site_id") ENCODE AUTO');
  assert.equal(sql.tableAttributes(redshiftConfig.parse(BASE)), '', 'no options: plain SQL both dialects run');
});

test('literals mean the same text in Redshift and PostgreSQL, backslashes and quotes included', async (t) => {
  const db = await testDatabase();
  t.after(() => db.drop());
  for (const value of [`plain`, `it's`, `back\\slash`, `\\`, `a\\'b\\\\c`, `ünï ✓`, '']) {
    const [row] = await db.query(`SELECT ${sql.literal(value)} AS v`);
    assert.equal(row!.v, value);
  }
  assert.equal(sql.literal('a\\b'), "('a' || CHR(92) || 'b')");
  assert.equal(sql.quoteIdent('we"ird'), '"we""ird"');
});

test('the number of staged files is a multiple of the slices, growing with the input, never more than its rows', () => {
  assert.equal(fileCount(4, 1000, 10), 4);
  assert.equal(fileCount(4, 1000, 3), 3);
  assert.equal(fileCount(4, 4 * FILE_TARGET_BYTES + 1, 1e9), 8);
  assert.equal(fileCount(16, 100 * FILE_TARGET_BYTES, 1e9), 112);
  assert.equal(fileCount(1, 0, 0), 1);
});

test('the load batch is one list of statements, each a no-op once the ledger holds the run', () => {
  const t = sql.target('analytics', 'stats', sql.quoteIdent);
  const batch = sql.loadBatch({
    t, columns: ['day', 'site_id', 'views'], mode: 'upsert', key: ['day', 'site_id'], upsertWith: 'merge', run: 'run-1', loadId: 'L1', rows: 3, createSql: null,
    copy: { manifestUrl: 's3://b/p/manifest.json', iamRole: 'default', maxErrors: 0 }, now: '2026-12-01 10:00:00',
  });
  const texts = batch.map((s) => s.sql.split(' ').slice(0, 3).join(' '));
  assert.deepEqual(texts, [
    'LOCK datamill.loads',
    'CREATE TEMP TABLE',
    'ALTER TABLE "datamill_staging"',
    'COPY "datamill_staging" ("day",',
    'DELETE FROM "datamill_staging"',
    'CREATE TEMP TABLE',
    'MERGE INTO "analytics"."stats"',
    'INSERT INTO datamill.loads',
    'DROP TABLE "datamill_latest"',
    'DROP TABLE "datamill_staging"',
  ]);
  assert.equal(batch[1]!.sql, 'CREATE TEMP TABLE "datamill_staging" (LIKE "analytics"."stats")');
  assert.deepEqual(batch[3]!.copy, { table: '"datamill_staging"', columns: ['day', 'site_id', 'views', 'datamill_ordinal'], manifestUrl: 's3://b/p/manifest.json', maxErrors: 0 });
  assert.match(batch[6]!.sql, /WHEN MATCHED THEN UPDATE SET "views" = s\."views" WHEN NOT MATCHED THEN INSERT/);
});

test('the config refuses contradictions and names what is allowed', () => {
  const issues = (spec: Record<string, unknown>) => {
    const r = redshiftConfig.safeParse({ ...BASE, ...spec });
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  assert.deepEqual(issues({}), []);
  assert.deepEqual(issues({ data_api: { cluster_identifier: 'c', database: 'dev', db_user: 'u' } }), ['url: give exactly one of url (PostgreSQL wire protocol) or data_api (Redshift Data API)']);
  assert.deepEqual(issues({ url: undefined, data_api: { database: 'dev' } }), [
    'data_api.cluster_identifier: give exactly one of cluster_identifier (provisioned) or workgroup_name (Serverless)',
    'data_api.db_user: a provisioned cluster needs db_user or secret_arn',
  ]);
  assert.deepEqual(issues({ url: undefined, data_api: { workgroup_name: 'wg', database: 'dev' } }), []);
  assert.deepEqual(issues({ staging: 'bucket/prefix' }), ['staging: staging must be s3://bucket/prefix']);
  assert.deepEqual(issues({ mode: 'upsert' }), ['key: mode upsert needs key: the columns that identify a row, e.g. key: [day, site_id]']);
  assert.deepEqual(issues({ diststyle: 'key' }), ['distkey: diststyle key needs distkey: the column rows are distributed by']);
  assert.deepEqual(issues({ diststyle: 'even', distkey: 'a' }), ['diststyle: distkey needs diststyle key (or leave diststyle out), not even']);
  assert.deepEqual(issues({ s3: { access_key_id: 'x' } }), ['s3.access_key_id: give both access_key_id and secret_access_key, or neither']);
  assert.deepEqual(issues({ iam_role: undefined }).map((i) => i.split(':')[0]), ['iam_role']);
});
