import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { config as postgresConfig, createSink } from '../../adapters/postgres/index.js';
import type { PostgresSinkSpec } from '../../adapters/postgres/config.js';
import type { TypedInput } from '../../src/core/connector.js';
import { LoadError } from '../../src/core/errors.js';
import type { Row, Schema } from '../../src/core/schema.js';
import { testDatabase, type TestDatabase } from '../support/database.js';
import { freePort } from '../support/postgres-server.js';
import { testStageContext } from '../support/stage-context.js';
import { ALL_TYPES, bufferedInput } from './typed-input.js';

const here = dirname(fileURLToPath(import.meta.url));
const distRoot = join(here, '..', '..');

function sink(db: TestDatabase, spec: Partial<PostgresSinkSpec> = {}) {
  return createSink(postgresConfig.parse({ to: 'postgres', connection: db.url, table: 'analytics.stats', ...spec }));
}

async function loadRows(db: TestDatabase, schema: Schema, rows: Row[], spec: Partial<PostgresSinkSpec> = {}, options: { run?: string; partRows?: number } = {}) {
  const run = options.run ?? 'run-1';
  const buffered = await bufferedInput(schema, rows, { run, partRows: options.partRows });
  try {
    const ctx = testStageContext({ stage: 'load', run });
    return { result: await sink(db, spec).load(ctx, buffered.input), ctx };
  } finally {
    buffered.cleanup();
  }
}

async function withDb(t: { after(fn: () => Promise<void>): void }): Promise<TestDatabase> {
  const db = await testDatabase();
  t.after(() => db.drop());
  return db;
}

const STATS: Schema = [
  { name: 'day', type: 'date' },
  { name: 'site_id', type: 'integer' },
  { name: 'views', type: 'integer' },
];

test('append loads exactly the rows, with every type intact', async (t) => {
  const db = await withDb(t);
  const schema = ALL_TYPES;
  const tricky = 'tab\there\nnew line\\backslash\r"quote", comma';
  const rows: Row[] = [
    [1, tricky, 0.25, '12345678901234567890.123456789', true, Date.UTC(2026, 0, 2, 3, 4, 5, 678), '2026-01-02', { a: [1, 'x\ty'], b: null }],
    [2, null, null, null, null, null, null, null],
    [9007199254740991, '', -1.5e-7, '-0.5', false, 0, '1970-01-01', 'just a string'],
  ];
  const { result, ctx } = await loadRows(db, schema, rows, { table: 'typed' }, { partRows: 2 });
  assert.equal(result.rowsLoaded, 3);
  assert.equal(result.target, 'public.typed');
  assert.equal(ctx.rows, 3, 'progress reports every row');
  const got = await db.query(`SELECT id::text, name, ratio, price::text, ok, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS ts, day::text, doc FROM typed ORDER BY id`);
  assert.deepEqual(got, [
    { id: '1', name: tricky, ratio: 0.25, price: '12345678901234567890.123456789', ok: true, ts: '2026-01-02T03:04:05.678', day: '2026-01-02', doc: { a: [1, 'x\ty'], b: null } },
    { id: '2', name: null, ratio: null, price: null, ok: null, ts: null, day: null, doc: null },
    { id: '9007199254740991', name: '', ratio: -1.5e-7, price: '-0.5', ok: false, ts: '1970-01-01T00:00:00.000', day: '1970-01-01', doc: 'just a string' },
  ]);
});

test('a missing table is created from the schema with its primary key and mapped types', async (t) => {
  const db = await withDb(t);
  const schema: Schema = [
    { name: 'day', type: 'date' },
    { name: 'site_id', type: 'integer' },
    { name: 'ctr', type: 'number' },
    { name: 'amount', type: 'decimal' },
    { name: 'label', type: 'string' },
    { name: 'ok', type: 'boolean' },
    { name: 'ts', type: 'timestamp' },
    { name: 'extra', type: 'json' },
  ];
  await loadRows(db, schema, [['2026-01-01', 1, 0.5, '1.5', 'a', true, 0, {}]], { key: ['day', 'site_id'] });
  const cols = await db.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'analytics' AND table_name = 'stats' ORDER BY ordinal_position`);
  assert.deepEqual(
    cols.map((c) => `${c.column_name} ${c.data_type}`),
    ['day date', 'site_id bigint', 'ctr double precision', 'amount numeric', 'label text', 'ok boolean', 'ts timestamp with time zone', 'extra jsonb'],
  );
  const pk = await db.query(`SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'analytics.stats'::regclass AND i.indisprimary ORDER BY a.attname`);
  assert.deepEqual(pk.map((r) => r.attname), ['day', 'site_id']);
});

test('upserting the same input twice leaves the same table', async (t) => {
  const db = await withDb(t);
  const rows: Row[] = [['2026-01-01', 1, 10], ['2026-01-01', 2, 20], ['2026-01-02', 1, 30]];
  await loadRows(db, STATS, rows, { mode: 'upsert', key: ['day', 'site_id'] }, { run: 'run-1' });
  const first = await db.query(`SELECT day::text, site_id, views FROM analytics.stats ORDER BY 1, 2`);
  const { result } = await loadRows(db, STATS, rows, { mode: 'upsert', key: ['day', 'site_id'] }, { run: 'run-2' });
  const second = await db.query(`SELECT day::text, site_id, views FROM analytics.stats ORDER BY 1, 2`);
  assert.deepEqual(second, first);
  assert.equal(second.length, 3);
  assert.equal(result.figures?.updated, 3);
  assert.equal(result.figures?.inserted, 0);
});

test('an upsert updates existing keys and inserts new ones', async (t) => {
  const db = await withDb(t);
  const key = { mode: 'upsert' as const, key: ['day', 'site_id'] };
  await loadRows(db, STATS, [['2026-01-01', 1, 10], ['2026-01-01', 2, 20]], key, { run: 'run-1' });
  const { result } = await loadRows(db, STATS, [['2026-01-01', 2, 25], ['2026-01-03', 7, 70]], key, { run: 'run-2' });
  assert.deepEqual(result.figures, { mode: 'upsert', inserted: 1, updated: 1, input: 2, strategy: 'on-conflict' });
  assert.equal(result.rowsLoaded, 2);
  const rows = await db.query(`SELECT day::text, site_id::int, views::int FROM analytics.stats ORDER BY 1, 2`);
  assert.deepEqual(rows, [
    { day: '2026-01-01', site_id: 1, views: 10 },
    { day: '2026-01-01', site_id: 2, views: 25 },
    { day: '2026-01-03', site_id: 7, views: 70 },
  ]);
});

test('when one input repeats a key, its last occurrence wins (with and without a unique constraint)', async (t) => {
  const db = await withDb(t);
  const rows: Row[] = [['2026-01-01', 1, 1], ['2026-01-01', 2, 2], ['2026-01-01', 1, 3], ['2026-01-01', 1, 4]];
  await loadRows(db, STATS, rows, { mode: 'upsert', key: ['day', 'site_id'] }, { partRows: 1 });
  assert.deepEqual(await db.query(`SELECT site_id::int, views::int FROM analytics.stats ORDER BY 1`), [{ site_id: 1, views: 4 }, { site_id: 2, views: 2 }]);

  // A table without any unique constraint on the key takes the delete + insert path.
  await db.query(`CREATE TABLE public.loose (day date, site_id bigint, views bigint, note text DEFAULT 'kept')`);
  await db.query(`INSERT INTO public.loose VALUES ('2026-01-01', 1, 100), ('2026-01-01', 1, 101), ('2026-01-01', 9, 900)`);
  const { result } = await loadRows(db, STATS, rows, { table: 'loose', mode: 'upsert', key: ['day', 'site_id'] }, { partRows: 3 });
  assert.equal(result.figures?.strategy, 'delete-insert');
  assert.equal(result.figures?.updated, 1);
  assert.equal(result.figures?.inserted, 1);
  assert.deepEqual(await db.query(`SELECT site_id::int, views::int, note FROM public.loose ORDER BY 1`), [
    { site_id: 1, views: 4, note: 'kept' },
    { site_id: 2, views: 2, note: 'kept' },
    { site_id: 9, views: 900, note: 'kept' },
  ]);
});

test('an upsert whose input has a null key fails without changing the table', async (t) => {
  const db = await withDb(t);
  await loadRows(db, STATS, [['2026-01-01', 1, 1]], { mode: 'upsert', key: ['day', 'site_id'] }, { run: 'run-1' });
  await assert.rejects(loadRows(db, STATS, [['2026-01-01', null, 5], ['2026-01-01', 1, 9]], { mode: 'upsert', key: ['day', 'site_id'] }, { run: 'run-2' }), (err: unknown) => {
    assert.ok(err instanceof LoadError);
    assert.match(err.message, /1 of 2 input rows have a null in the key \(day, site_id\)/);
    assert.equal(err.retryable, false);
    return true;
  });
  assert.deepEqual(await db.query(`SELECT views::int FROM analytics.stats`), [{ views: 1 }]);
});

test('replace leaves exactly the new rows in the table, filling columns the input lacks from their defaults', async (t) => {
  const db = await withDb(t);
  await db.query(`CREATE SCHEMA analytics; CREATE TABLE analytics.stats (id bigint GENERATED ALWAYS AS IDENTITY, day date, site_id bigint, views bigint, note text NOT NULL DEFAULT 'auto')`);
  await loadRows(db, STATS, [['2026-01-01', 1, 1], ['2026-01-01', 2, 2]], {}, { run: 'run-1' });
  const { result } = await loadRows(db, STATS, [['2026-02-01', 3, 3]], { mode: 'replace' }, { run: 'run-2' });
  assert.equal(result.rowsLoaded, 1);
  assert.deepEqual(await db.query(`SELECT day::text, site_id::int, views::int, note, id > 2 AS fresh_id FROM analytics.stats`), [{ day: '2026-02-01', site_id: 3, views: 3, note: 'auto', fresh_id: true }]);
  await loadRows(db, STATS, [], { mode: 'replace' }, { run: 'run-3' });
  assert.deepEqual(await db.query(`SELECT count(*)::int AS n FROM analytics.stats`), [{ n: 0 }], 'an empty input replaces with nothing');
});

test('loading the same run again does nothing and says it was already loaded', async (t) => {
  const db = await withDb(t);
  const rows: Row[] = [['2026-01-01', 1, 1], ['2026-01-01', 2, 2]];
  const first = await loadRows(db, STATS, rows, {}, { run: 'run-7' });
  assert.equal(first.result.alreadyLoaded, undefined);
  const again = await loadRows(db, STATS, rows, {}, { run: 'run-7' });
  assert.equal(again.result.alreadyLoaded, true);
  assert.equal(again.result.rowsLoaded, 2);
  assert.deepEqual(await db.query(`SELECT count(*)::int AS n FROM analytics.stats`), [{ n: 2 }]);
  assert.deepEqual(await db.query(`SELECT target, run_id, rows::int FROM datamill.loads`), [{ target: 'analytics.stats', run_id: 'run-7', rows: 2 }]);
  assert.ok(again.ctx.logs.some((l) => l.level === 'info' && /already loaded/.test(l.message)));
});

/** Runs one load in a child process, as a stage process would; resolves with how it ended. */
function loadInChild(env: Record<string, string>): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const url = (p: string) => pathToFileURL(join(distRoot, p)).href;
  const script = `
    import { config, createSink } from ${JSON.stringify(url('adapters/postgres/index.js'))};
    import { openTypedInput } from ${JSON.stringify(url('test/adapters/typed-input.js'))};
    import { testStageContext } from ${JSON.stringify(url('test/support/stage-context.js'))};
    const job = JSON.parse(process.env.CHILD_JOB);
    const input = await openTypedInput(job.root, job.ref);
    const ctx = testStageContext({ stage: 'load', run: job.run, attempt: job.attempt });
    const result = await createSink(config.parse(job.spec)).load(ctx, input);
    process.stdout.write(JSON.stringify(result));
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

test('a load killed with SIGKILL right before COMMIT leaves nothing, and its retry loads the rows exactly once', async (t) => {
  const db = await withDb(t);
  await loadRows(db, STATS, [['2026-01-01', 1, 1]], {}, { run: 'run-0' });
  const rows: Row[] = Array.from({ length: 1000 }, (_, i) => ['2026-01-02', i, i * 2]);
  const buffered = await bufferedInput(STATS, rows, { run: 'run-1', partRows: 300 });
  t.after(() => buffered.cleanup());
  const job = (attempt: number) => JSON.stringify({ root: buffered.root, ref: buffered.ref, run: 'run-1', attempt, spec: { to: 'postgres', connection: '${env:CHILD_WAREHOUSE_URL}', table: 'analytics.stats' } });
  const env = (attempt: number) => ({ CHILD_JOB: job(attempt), CHILD_WAREHOUSE_URL: db.url, DATAMILL_FAULT: 'load:before-commit:1' });

  const killed = await loadInChild(env(1));
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  assert.deepEqual(await db.query(`SELECT count(*)::int AS n FROM analytics.stats`), [{ n: 1 }]);
  assert.deepEqual(await db.query(`SELECT run_id FROM datamill.loads ORDER BY run_id`), [{ run_id: 'run-0' }]);

  const retried = await loadInChild(env(2));
  assert.equal(retried.code, 0, retried.stderr);
  assert.equal(JSON.parse(retried.stdout).rowsLoaded, 1000);
  assert.deepEqual(await db.query(`SELECT count(*)::int AS n, count(DISTINCT site_id)::int AS d FROM analytics.stats WHERE day = '2026-01-02'`), [{ n: 1000, d: 1000 }]);

  const replayed = await loadInChild(env(3));
  assert.equal(replayed.code, 0, replayed.stderr);
  assert.equal(JSON.parse(replayed.stdout).alreadyLoaded, true);
  assert.deepEqual(await db.query(`SELECT count(*)::int AS n FROM analytics.stats`), [{ n: 1001 }]);
});

test('a table lacking input columns is refused with the missing column named, before any row is copied', async (t) => {
  const db = await withDb(t);
  await db.query(`CREATE SCHEMA analytics; CREATE TABLE analytics.stats (day date, site_id bigint)`);
  await assert.rejects(loadRows(db, STATS, [['2026-01-01', 1, 1]]), (err: unknown) => {
    assert.ok(err instanceof LoadError);
    assert.match(err.message, /table analytics\.stats has no column views/);
    assert.match(err.message, /ADD COLUMN "views" bigint/);
    assert.equal(err.retryable, false);
    return true;
  });
  assert.deepEqual(await db.query(`SELECT count(*)::int AS n FROM analytics.stats`), [{ n: 0 }]);
});

test('with create: false a missing table is an error naming it', async (t) => {
  const db = await withDb(t);
  await assert.rejects(loadRows(db, STATS, [['2026-01-01', 1, 1]], { create: false }), /table analytics\.stats does not exist, and load\.create is false/);
});

test('a value the column cannot hold fails the load, names the input part and row, and is not retried', async (t) => {
  const db = await withDb(t);
  await db.query(`CREATE TABLE public.counts (site text, n integer)`);
  const schema: Schema = [{ name: 'site', type: 'string' }, { name: 'n', type: 'string' }];
  await assert.rejects(loadRows(db, schema, [['a', '1'], ['b', '2'], ['c', 'lots']], { table: 'counts' }, { partRows: 2 }), (err: unknown) => {
    assert.ok(err instanceof LoadError);
    assert.match(err.message, /SQLSTATE 22P02/);
    assert.match(err.message, /input part-00001\.tsv row 1/);
    assert.match(err.message, /column n/);
    assert.match(err.message, /lots/);
    assert.equal(err.retryable, false);
    return true;
  });
  assert.deepEqual(await db.query(`SELECT count(*)::int AS n FROM public.counts`), [{ n: 0 }]);
});

test('an unreachable server gives a retryable LoadError naming host, port and database but not the password', async () => {
  const port = await freePort();
  process.env.DATAMILL_TEST_UNREACHABLE = `postgres://loader:Sup3r-S3cret@127.0.0.1:${port}/warehouse`;
  const buffered = await bufferedInput(STATS, [['2026-01-01', 1, 1]]);
  try {
    const s = createSink(postgresConfig.parse({ to: 'postgres', connection: '${env:DATAMILL_TEST_UNREACHABLE}', table: 'stats' }));
    await assert.rejects(s.load(testStageContext({ stage: 'load' }), buffered.input), (err: unknown) => {
      assert.ok(err instanceof LoadError);
      assert.equal(err.retryable, true);
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}/warehouse`));
      const everything = JSON.stringify({ message: err.message, details: err.details, stack: err.stack });
      assert.ok(!everything.includes('Sup3r-S3cret'), everything);
      assert.ok(!everything.includes('postgres://'), everything);
      return true;
    });
  } finally {
    delete process.env.DATAMILL_TEST_UNREACHABLE;
    buffered.cleanup();
  }
});

test('a table name written to inject SQL is only ever a quoted name', async (t) => {
  const db = await withDb(t);
  await db.query(`CREATE TABLE y (id int)`);
  const evil = 'x"; drop table y; --';
  const schema: Schema = [{ name: 'a"; drop table y; --', type: 'string' }];
  for (const mode of ['append', 'replace', 'upsert'] as const) {
    const spec: Partial<PostgresSinkSpec> = { table: evil, mode, ...(mode === 'upsert' ? { key: [schema[0]!.name] } : {}) };
    await loadRows(db, schema, [['v']], spec, { run: `run-${mode}` });
  }
  assert.deepEqual(await db.query(`SELECT to_regclass('y') IS NOT NULL AS y_exists`), [{ y_exists: true }]);
  assert.deepEqual(await db.query(`SELECT count(*)::int AS n FROM public."x""; drop table y; --"`), [{ n: 1 }]);
});

test('cancelling a load mid-COPY rolls it back', async (t) => {
  const db = await withDb(t);
  const controller = new AbortController();
  const real = await bufferedInput(STATS, [['2026-01-01', 1, 1]]);
  t.after(() => real.cleanup());
  let reads = 0;
  const input: TypedInput = {
    schema: STATS,
    manifest: { ...real.input.manifest, rows: 2 },
    async *parts() {
      const stream = new Readable({
        read() {
          // The first read hands over a row; the second one is where the runtime gives up.
          if (reads++ === 0) this.push('2026-01-01\t1\t1\n');
          else controller.abort();
        },
      });
      yield { part: real.input.manifest.parts[0]!, stream };
    },
    rows: () => real.input.rows(),
  };
  const ctx = { ...testStageContext({ stage: 'load' }), signal: controller.signal };
  await assert.rejects(sink(db).load(ctx, input), (err: unknown) => {
    assert.ok(err instanceof LoadError);
    assert.match(err.message, /cancelled; nothing was committed/);
    return true;
  });
  assert.deepEqual(await db.query(`SELECT to_regclass('analytics.stats') IS NULL AS gone, to_regclass('datamill.loads') IS NOT NULL AS ledger`), [{ gone: true, ledger: true }]);
  assert.deepEqual(await db.query(`SELECT count(*)::int AS n FROM datamill.loads`), [{ n: 0 }]);
});

test('the log says what was loaded, where and how, without the connection URL', async (t) => {
  const db = await withDb(t);
  const { ctx } = await loadRows(db, STATS, [['2026-01-01', 1, 1]], { mode: 'replace' });
  const line = ctx.logs.find((l) => l.level === 'info' && /loaded 1 rows into analytics\.stats \(replace\)/.test(l.message));
  assert.ok(line, JSON.stringify(ctx.logs));
  assert.equal(line.meta?.mode, 'replace');
  assert.equal(line.meta?.rows, 1);
  assert.ok(!JSON.stringify(ctx.logs).includes(db.url));
});

test('concurrent attempts of one run load its rows once, and first loads into a fresh database do not race to create things', async (t) => {
  const db = await withDb(t);
  const rows: Row[] = Array.from({ length: 200 }, (_, i) => ['2026-01-01', i, i]);
  const results = await Promise.all([
    loadRows(db, STATS, rows, {}, { run: 'run-1' }),
    loadRows(db, STATS, rows, {}, { run: 'run-1' }),
    loadRows(db, STATS, rows, {}, { run: 'run-2' }),
    loadRows(db, STATS, rows, { table: 'analytics.other' }, { run: 'run-1' }),
    loadRows(db, STATS, rows, { table: 'elsewhere.third' }, { run: 'run-1' }),
  ]);
  assert.deepEqual(results.slice(0, 2).map((r) => r.result.alreadyLoaded === true).sort(), [false, true]);
  assert.deepEqual(await db.query(`SELECT count(*)::int AS n FROM analytics.stats`), [{ n: 400 }]);
  assert.deepEqual(await db.query(`SELECT target, run_id FROM datamill.loads ORDER BY 1, 2`), [
    { target: 'analytics.other', run_id: 'run-1' },
    { target: 'analytics.stats', run_id: 'run-1' },
    { target: 'analytics.stats', run_id: 'run-2' },
    { target: 'elsewhere.third', run_id: 'run-1' },
  ]);
});
