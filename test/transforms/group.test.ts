import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { TransformError } from '../../src/core/errors.js';
import type { Row, Schema } from '../../src/core/schema.js';
import { group } from '../../transforms/group.js';
import { compileContext, compileError, runOp } from './op-harness.js';

const schema: Schema = [
  { name: 'site', type: 'string' },
  { name: 'day', type: 'date' },
  { name: 'views', type: 'integer' },
  { name: 'ctr', type: 'number' },
  { name: 'revenue', type: 'decimal' },
];

const rows: Row[] = [
  ['a', '2026-01-01', 10, 0.5, '1.10'],
  ['a', '2026-01-01', 5, null, '0.005'],
  ['a', '2026-01-02', null, 0.25, null],
  [null, '2026-01-01', 1, 1, '2'],
  [null, '2026-01-01', 2, null, null],
];

const sorted = (r: Row[]) => [...r].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));

test('group aggregates per key like SQL: nulls ignored, null keys form their own group', async () => {
  const out = await runOp(group, { by: ['site', 'day'], count: true, sum: ['views', 'revenue'], max: { top_ctr: 'ctr' }, avg: { avg_ctr: 'ctr' } }, schema, rows);
  assert.deepEqual(out.schema, [
    { name: 'site', type: 'string' },
    { name: 'day', type: 'date' },
    { name: 'count', type: 'integer' },
    { name: 'views', type: 'integer' },
    { name: 'revenue', type: 'decimal' },
    { name: 'top_ctr', type: 'number' },
    { name: 'avg_ctr', type: 'number' },
  ]);
  assert.deepEqual(sorted(out.rows), sorted([
    ['a', '2026-01-01', 2, 15, '1.105', 0.5, 0.5],
    ['a', '2026-01-02', 1, null, null, 0.25, 0.25],
    [null, '2026-01-01', 2, 3, '2', 1, 1],
  ]));
});

test('min and max keep the column type and order decimals by value', async () => {
  const r: Row[] = [['x', '2026-01-01', 1, 1, '9.5'], ['x', '2026-01-03', 1, 1, '10.25'], ['x', null, 1, 1, '-1']];
  const out = await runOp(group, { by: ['site'], min: { first: 'day', low: 'revenue' }, max: { last: 'day', high: 'revenue' } }, schema, r);
  assert.deepEqual(out.rows, [['x', '2026-01-01', '-1', '2026-01-03', '10.25']]);
});

test('without by, an empty input still gives one row, as SQL does', async () => {
  const out = await runOp(group, { by: [], count: 'n', sum: ['views'] }, schema, []);
  assert.deepEqual(out.rows, [[0, null]]);
});

test('an integer sum that would lose precision fails instead of rounding', async () => {
  const r: Row[] = [['a', null, Number.MAX_SAFE_INTEGER, null, null], ['a', null, 1, null, null]];
  await assert.rejects(runOp(group, { by: ['site'], sum: ['views'] }, schema, r), (err: unknown) => err instanceof TransformError && /the integer sum 'views' passes/.test(err.message));
});

test('group refuses sums of text, unknown columns and clashing output names', () => {
  assert.match(compileError(group, { by: ['site'], sum: ['day'] }, schema).message, /column 'day' is date; sum needs integer, number or decimal/);
  assert.match(compileError(group, { by: ['sight'] }, schema, 'transform[2].group').message, /^transform\[2\]\.group\.by: unknown column 'sight'; known: site, day, views, ctr, revenue$/);
  assert.match(compileError(group, { by: ['site'], sum: ['views'], max: ['views'] }, schema).message, /'views' would appear twice/);
});

test('a group that outgrows its memory spills to disk and gives the same result', async () => {
  const many: Row[] = [];
  for (let i = 0; i < 20_000; i++) many.push([`site-${i % 3001}`, i % 2 === 0 ? '2026-01-01' : null, i, i / 7, `${i}.${i % 100}`]);
  const config = { by: ['site', 'day'], count: true, sum: ['views', 'revenue'], min: { lo: 'ctr' }, avg: ['ctr'] };
  const inMemory = await runOp(group, config, schema, many);
  const ctx = compileContext('transform[0].group');
  const spilled = await runOp(group, { ...config, memory: '16Ki' }, schema, many, ctx);
  assert.ok(ctx.logs.some((l) => /spilling partial groups to disk/.test(l.message)), 'expected a spill');
  assert.equal(spilled.rows.length, 6002);
  const norm = (r: Row[]) => sorted(r.map((row) => row.map((v) => (typeof v === 'number' ? Number(v.toPrecision(12)) : v))));
  assert.deepEqual(norm(spilled.rows), norm(inMemory.rows));
  assert.deepEqual(readdirSync(ctx.tmpDir), [], 'spill files are removed');
});
