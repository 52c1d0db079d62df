import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SourceError } from '../../src/core/errors.js';
import * as csv from '../../adapters/csv/index.js';
import * as postgres from '../../adapters/postgres/index.js';
import { testDatabase } from '../support/database.js';
import { extractCommitted, type Committed } from '../support/extract.js';
import { testStageContext } from '../support/stage-context.js';

async function readBack(c: Committed): Promise<{ columns: readonly string[] | null; records: string[][] }> {
  const out: { columns: readonly string[] | null; records: string[][] } = { columns: null, records: [] };
  for await (const batch of csv.reader.read(c.manifest, (p) => c.buffer.openPart(c.ref, p), testStageContext({ stage: 'adapt' }))) {
    out.columns = batch.columns;
    out.records.push(...(batch.records as string[][]));
  }
  return out;
}

function source(config: Record<string, unknown>) {
  return postgres.createSource(postgres.sourceConfig.parse({ from: 'postgres', ...config }));
}

test('a table is extracted whole with COPY; awkward text, nulls, json and timestamps come back as the csv reader reads them', async (t) => {
  const db = await testDatabase();
  t.after(() => db.drop());
  process.env.TEST_PG_SOURCE_URL = db.url;
  await db.query('CREATE SCHEMA "Sales"');
  await db.query('CREATE TABLE "Sales"."Line items" (id int, note text, meta jsonb, at timestamptz)');
  await db.query(`INSERT INTO "Sales"."Line items" VALUES
    (1, 'comma, "quote" and
newline', '{"a": [1, 2]}', '2026-05-01 12:00:00.5+02'),
    (2, NULL, NULL, NULL),
    (3, 'ünïcødé ✓', 'null', '2026-05-01T00:00:00Z')`);
  const c = await extractCommitted(source({ connection: '${env:TEST_PG_SOURCE_URL}', table: 'Sales.Line items' }));
  assert.equal(c.manifest.rows, 3);
  assert.equal(c.manifest.format, 'csv');
  assert.equal(c.result.cursor, undefined, 'not incremental');
  const { columns, records } = await readBack(c);
  assert.deepEqual(columns, ['id', 'note', 'meta', 'at']);
  assert.deepEqual(records, [
    ['1', 'comma, "quote" and\nnewline', '{"a": [1, 2]}', '2026-05-01 10:00:00.5+00'],
    ['2', '', '', ''],
    ['3', 'ünïcødé ✓', 'null', '2026-05-01 00:00:00+00'],
  ]);
});

test('an incremental query reads above the mark up to the maximum, and a fixed range reads exactly that range', async (t) => {
  const db = await testDatabase();
  t.after(() => db.drop());
  process.env.TEST_PG_SOURCE_URL = db.url;
  await db.query('CREATE TABLE events AS SELECT i AS id, i * 10 AS seq FROM generate_series(1, 50) i');
  const config = { connection: '${env:TEST_PG_SOURCE_URL}', query: 'SELECT id, seq FROM events WHERE id % 2 = 0;\n', incremental: { column: 'seq', start: 100 } };
  const first = await extractCommitted(source(config), { from: null, to: null });
  assert.deepEqual(first.result.cursor, { name: 'postgres:seq', from: '100', to: '500' }, 'start applies when there is no mark');
  assert.equal(first.manifest.rows, 20);
  const fixed = await extractCommitted(source(config), { from: '200', to: '300' });
  assert.deepEqual((await readBack(fixed)).records.map((r) => r[0]), ['22', '24', '26', '28', '30']);
  const none = await extractCommitted(source(config), { from: '500', to: null });
  assert.deepEqual([none.manifest.rows, none.result.cursor?.to], [0, '500'], 'nothing new: the mark stays');
});

test('an unreachable server fails the extract with a retryable SourceError naming the server, never the password', async () => {
  process.env.TEST_PG_SOURCE_URL = 'postgres://reader:pg-Secr3t-pw@127.0.0.1:1/shop';
  await assert.rejects(extractCommitted(source({ connection: '${env:TEST_PG_SOURCE_URL}', table: 'orders' })), (err: SourceError) => {
    assert.ok(err instanceof SourceError);
    assert.equal(err.retryable, true);
    assert.match(err.message, /cannot connect to PostgreSQL at 127\.0\.0\.1:1\/shop/);
    assert.ok(!err.message.includes('pg-Secr3t-pw'));
    return true;
  });
});

test('a query that is not valid SQL fails without retrying, naming extract.query', async (t) => {
  const db = await testDatabase();
  t.after(() => db.drop());
  process.env.TEST_PG_SOURCE_URL = db.url;
  await assert.rejects(extractCommitted(source({ connection: '${env:TEST_PG_SOURCE_URL}', query: 'SELEC 1' })), (err: SourceError) => {
    assert.equal(err.retryable, false);
    assert.match(err.message, /extract from extract\.query on .* failed: syntax error at or near "SELEC" \(SQLSTATE 42601\)/);
    return true;
  });
});

test('the job schema asks for exactly one of query or table', () => {
  const both = postgres.sourceConfig.safeParse({ from: 'postgres', connection: 'x', query: 'SELECT 1', table: 't' });
  const neither = postgres.sourceConfig.safeParse({ from: 'postgres', connection: 'x' });
  assert.equal(both.success, false);
  assert.equal(neither.success, false);
  assert.match(neither.error!.issues[0]!.message, /give exactly one of query \(a SELECT\) or table/);
});
