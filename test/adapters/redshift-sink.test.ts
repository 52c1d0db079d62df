import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { LoadError } from '../../src/core/errors.js';
import type { Row, Schema } from '../../src/core/schema.js';
import { readObject } from '../support/redshift-data-standin/copy-from-s3.js';
import { harness, MODES } from './redshift-harness.js';
import { EVERY_TYPE as TYPED } from './typed-input.js';

const STATS: Schema = [
  { name: 'day', type: 'date' },
  { name: 'site_id', type: 'integer' },
  { name: 'views', type: 'integer' },
];

const count = async (h: { db: { query(sql: string): Promise<Array<Record<string, unknown>>> } }, table = 'analytics.stats') => (await h.db.query(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n;

for (const mode of MODES) {
  test(`[${mode}] append loads exactly the rows with every type intact, creates the table, and removes the staged files`, async (t) => {
    const h = await harness(mode, t);
    const tricky = 'tab\there\nnew line\\backslash\r"quote", comma';
    const rows: Row[] = [
      [1, tricky, 0.25, '12345678901234567890.123456789', true, Date.UTC(2026, 0, 2, 3, 4, 5, 678), '2026-01-02', { a: [1, 'x\ty'], b: null }],
      [2, null, null, null, null, null, null, null],
      [3, '', -1.5e-7, '-0.5', false, 0, '1970-01-01', 'just a string'],
    ];
    const { result, ctx } = await h.load(TYPED, rows, { table: 'typed' }, { partRows: 2 });
    assert.equal(result.rowsLoaded, 3);
    assert.equal(result.target, 'public.typed');
    assert.equal(result.figures?.files, 2, 'two slices: two files');
    assert.equal(ctx.rows, 3, 'progress reports every row');
    const got = await h.db.query(`SELECT id::int, name, ratio, price::text, ok, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS ts, day::text, doc FROM typed ORDER BY id`);
    assert.deepEqual(got, [
      { id: 1, name: tricky, ratio: 0.25, price: '12345678901234567890.1234567890', ok: true, ts: '2026-01-02T03:04:05.678', day: '2026-01-02', doc: '{"a":[1,"x\\ty"],"b":null}' },
      { id: 2, name: null, ratio: null, price: null, ok: null, ts: null, day: null, doc: null },
      { id: 3, name: '', ratio: -1.5e-7, price: '-0.5000000000', ok: false, ts: '1970-01-01T00:00:00.000', day: '1970-01-01', doc: '"just a string"' },
    ]);
    const cols = await h.db.query(`SELECT column_name, data_type, character_maximum_length AS len FROM information_schema.columns WHERE table_name = 'typed' ORDER BY ordinal_position`);
    assert.deepEqual(cols.map((c) => `${c.column_name} ${c.data_type}${c.len ? `(${c.len})` : ''}`), [
      'id bigint', 'name character varying(65535)', 'ratio double precision', 'price numeric', 'ok boolean', 'ts timestamp with time zone', 'day date', 'doc character varying(65535)',
    ]);
    assert.deepEqual(await h.stagedKeys(), [], 'staged files are removed after a successful load');
  });

  test(`[${mode}] upsert updates existing keys, inserts new ones, and the last occurrence of a repeated key wins (MERGE and DELETE USING)`, async (t) => {
    const h = await harness(mode, t);
    for (const upsert_with of ['merge', 'delete-insert'] as const) {
      const table = `up_${upsert_with.replace('-', '_')}`;
      const spec = { table, mode: 'upsert' as const, key: ['day', 'site_id'], upsert_with };
      await h.load(STATS, [['2026-01-01', 1, 10], ['2026-01-01', 2, 20]], spec, { run: 'run-1' });
      const { result } = await h.load(STATS, [['2026-01-01', 2, 25], ['2026-01-03', 7, 70], ['2026-01-01', 2, 26], ['2026-01-03', 7, 71]], spec, { run: 'run-2', partRows: 1 });
      assert.equal(result.rowsLoaded, 4, upsert_with);
      assert.deepEqual(await h.db.query(`SELECT day::text, site_id::int, views::int FROM ${table} ORDER BY 1, 2`), [
        { day: '2026-01-01', site_id: 1, views: 10 },
        { day: '2026-01-01', site_id: 2, views: 26 },
        { day: '2026-01-03', site_id: 7, views: 71 },
      ], upsert_with);
    }
  });

  test(`[${mode}] replace leaves exactly the new rows`, async (t) => {
    const h = await harness(mode, t);
    await h.load(STATS, [['2026-01-01', 1, 1], ['2026-01-01', 2, 2]], {}, { run: 'run-1' });
    await h.load(STATS, [['2026-02-01', 3, 3]], { mode: 'replace' }, { run: 'run-2' });
    assert.deepEqual(await h.db.query(`SELECT day::text, site_id::int, views::int FROM analytics.stats`), [{ day: '2026-02-01', site_id: 3, views: 3 }]);
    await h.load(STATS, [], { mode: 'replace' }, { run: 'run-3' });
    assert.equal(await count(h), 0, 'an empty input replaces with nothing');
    await h.load(STATS, [['2026-03-01', 4, 4]], {}, { run: 'run-4' });
    await h.load(STATS, [], { mode: 'replace' }, { run: 'run-3' });
    assert.equal(await count(h), 1, 'replaying an already loaded replace does not wipe later rows');
  });

  test(`[${mode}] loading the same run again does nothing and says it was already loaded`, async (t) => {
    const h = await harness(mode, t);
    const rows: Row[] = [['2026-01-01', 1, 1], ['2026-01-01', 2, 2]];
    await h.load(STATS, rows, {}, { run: 'run-7' });
    const again = await h.load(STATS, rows, {}, { run: 'run-7' });
    assert.equal(again.result.alreadyLoaded, true);
    assert.equal(again.result.rowsLoaded, 2);
    assert.equal(await count(h), 2);
    assert.deepEqual(await h.db.query(`SELECT target, run_id, rows::int FROM datamill.loads`), [{ target: 'analytics.stats', run_id: 'run-7', rows: 2 }]);
    assert.ok(again.ctx.logs.some((l) => l.level === 'info' && /already loaded/.test(l.message)));
  });

  test(`[${mode}] a COPY with a bad value fails with the rows of STL_LOAD_ERRORS, leaves the target untouched and keeps the staged files`, async (t) => {
    const h = await harness(mode, t);
    await h.db.query(`CREATE TABLE public.counts (site varchar(100), n integer)`);
    await h.db.query(`INSERT INTO public.counts VALUES ('before', 0)`);
    const schema: Schema = [{ name: 'site', type: 'string' }, { name: 'n', type: 'string' }];
    await assert.rejects(h.load(schema, [['a', '1'], ['b', '2'], ['c', 'lots']], { table: 'counts', slices: 1 }), (err: unknown) => {
      assert.ok(err instanceof LoadError, String(err));
      assert.equal(err.retryable, false);
      assert.match(err.message, /1 bad row in STL_LOAD_ERRORS: part-00000\.csv\.gz line 3, column n/);
      assert.match(err.message, /value "lots"/);
      const rows = err.details.load_errors as Array<Record<string, unknown>>;
      assert.equal(rows.length, 1);
      assert.match(String(rows[0]!.file), new RegExp(`^s3://${h.bucket}/staging/default/test-job/run-1/[^/]+/part-00000\\.csv\\.gz$`));
      assert.equal(rows[0]!.line, 3);
      assert.equal(rows[0]!.column, 'n');
      assert.equal(rows[0]!.value, 'lots');
      assert.equal(rows[0]!.raw, '"c","lots"');
      assert.match(String(rows[0]!.reason), /integer/);
      const rejects = err.details.rejects as Array<Record<string, unknown>>;
      assert.deepEqual({ ...rejects[0], reason: undefined }, { origin: rows[0]!.file, line: 3, field: 'n', reason: undefined, value: 'lots', record: '"c","lots"' });
      return true;
    });
    assert.deepEqual(await h.db.query(`SELECT site, n FROM public.counts`), [{ site: 'before', n: 0 }]);
    assert.deepEqual(await h.db.query(`SELECT count(*)::int AS n FROM datamill.loads`), [{ n: 0 }]);
    const staged = await h.stagedKeys();
    assert.equal(staged.filter((k) => k.endsWith('.csv.gz')).length, 1);
    assert.equal(staged.filter((k) => k.endsWith('manifest.json')).length, 1);
  });

  test(`[${mode}] an upsert whose input has a null key fails before anything is staged`, async (t) => {
    const h = await harness(mode, t);
    await assert.rejects(h.load(STATS, [['2026-01-01', 1, 5], ['2026-01-01', null, 9]], { mode: 'upsert', key: ['day', 'site_id'] }), (err: unknown) => {
      assert.ok(err instanceof LoadError);
      assert.match(err.message, /part-00000\.tsv row 2 has a null in key column site_id/);
      assert.equal(err.retryable, false);
      return true;
    });
    assert.deepEqual(await h.db.query(`SELECT count(*)::int AS n FROM datamill.loads`), [{ n: 0 }]);
  });

  test(`[${mode}] a staging bucket that does not exist is a non-retryable error naming it, and nothing is loaded`, async (t) => {
    const h = await harness(mode, t);
    await assert.rejects(h.load(STATS, [['2026-01-01', 1, 5]], { staging: 's3://no-such-bucket-here/x' }), (err: unknown) => {
      assert.ok(err instanceof LoadError);
      assert.match(err.message, /s3:\/\/no-such-bucket-here\/x\/default\/test-job\/run-1\/.*NoSuchBucket/);
      assert.equal(err.retryable, false);
      return true;
    });
    assert.deepEqual(await h.db.query(`SELECT to_regclass('analytics.stats') IS NULL AS none`), [{ none: true }]);
  });
}

test('the staged files are CSV.gz parts in a multiple of the slice count, listed in a COPY manifest', async (t) => {
  const h = await harness('pg-wire', t);
  const rows: Row[] = Array.from({ length: 10 }, (_, i) => ['2026-01-01', i, i]);
  await h.load(STATS, rows, { slices: 4, keep_staged: true });
  const keys = await h.stagedKeys();
  const parts = keys.filter((k) => k.endsWith('.csv.gz'));
  assert.equal(parts.length, 4);
  const manifestKey = keys.find((k) => k.endsWith('manifest.json'))!;
  const manifest = JSON.parse((await readObject(h.s3, `s3://${h.bucket}/${manifestKey}`)).toString()) as { entries: Array<{ url: string; mandatory: boolean; meta: { content_length: number } }> };
  assert.deepEqual(manifest.entries.map((e) => e.url), parts.map((k) => `s3://${h.bucket}/${k}`));
  assert.ok(manifest.entries.every((e) => e.mandatory && e.meta.content_length > 0));
  const lines = [];
  for (const e of manifest.entries) lines.push(...gunzipSync(await readObject(h.s3, e.url)).toString().trimEnd().split('\n'));
  assert.deepEqual(lines, rows.map((r) => r.join(',')));
  assert.deepEqual(lines.length, 10);
});

for (const mode of MODES) {
  test(`[${mode}] with max_errors, COPY skips the bad rows, the load commits the rest and reports the skipped ones as rejects`, async (t) => {
    const h = await harness(mode, t);
    await h.db.query(`CREATE TABLE public.counts (site varchar(100), n integer)`);
    const schema: Schema = [{ name: 'site', type: 'string' }, { name: 'n', type: 'string' }];
    const rows: Row[] = [['a', '1'], ['b', 'two'], ['c', '3'], ['d', 'four'], ['e', '5']];
    const { result } = await h.load(schema, rows, { table: 'counts', slices: 1, max_errors: 2 });
    assert.equal(result.rowsLoaded, 3);
    assert.equal(result.figures?.rows_rejected, 2);
    assert.deepEqual(result.rejects?.map((r) => [r.line, r.field, r.value, r.record]), [[2, 'n', 'two', '"b","two"'], [4, 'n', 'four', '"d","four"']]);
    assert.deepEqual(await h.db.query(`SELECT site, n FROM public.counts ORDER BY site`), [{ site: 'a', n: 1 }, { site: 'c', n: 3 }, { site: 'e', n: 5 }]);
    await assert.rejects(h.load(schema, rows, { table: 'counts', slices: 1, max_errors: 1 }, { run: 'run-2' }), /2 bad rows in STL_LOAD_ERRORS/);
    assert.equal(await count(h, 'public.counts'), 3);
  });
}
