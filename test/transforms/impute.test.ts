import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Schema } from '../../src/core/schema.js';
import { impute } from '../../transforms/impute.js';
import { compileError, runOp } from './op-harness.js';

const schema: Schema = [
  { name: 'n', type: 'integer' },
  { name: 'x', type: 'number' },
  { name: 'd', type: 'decimal' },
  { name: 's', type: 'string' },
  { name: 'ts', type: 'timestamp' },
];

test('constants fill nulls and leave other values alone', async () => {
  const rows = [
    [1, null, null, null, null],
    [null, 2.5, '1.5', 'a', 0],
  ];
  const out = await runOp(impute, { n: 0, x: -1, d: '0.00', s: 'ZZ', ts: { strategy: 'constant', value: '2026-01-01T00:00:00Z' } }, schema, rows);
  assert.deepEqual(out.rows, [
    [1, -1, '0.00', 'ZZ', Date.UTC(2026, 0, 1)],
    [0, 2.5, '1.5', 'a', 0],
  ]);
});

test('a constant that does not fit the column type is refused when compiling', () => {
  const err = compileError(impute, { n: 'zero' }, schema, 'transform[1].impute');
  assert.equal(err.message, `transform[1].impute.n: "zero" does not fit integer column 'n'; expected a safe integer`);
  assert.match(compileError(impute, { n: 1.5 }, schema).message, /does not fit integer/);
  assert.match(compileError(impute, { s: { strategy: 'mean' } }, schema).message, /strategy mean needs an integer, number or decimal column; 's' is string/);
});

test('mean fills with the average; integers round half away from zero, decimals keep their scale', async () => {
  const rows = [
    [1, 1, '1.00', null, null],
    [2, 2, '2.25', null, null],
    [null, null, null, null, null],
    [-10, null, null, null, null],
  ];
  const out = await runOp(impute, { n: { strategy: 'mean' }, x: { strategy: 'mean' }, d: { strategy: 'mean' } }, schema, rows);
  // (1 + 2 - 10) / 3 = -2.33 → -2; x: 1.5; d: 3.25 / 2 = 1.625 → 1.63
  assert.deepEqual(out.rows[2]!.slice(0, 3), [-2, 1.5, '1.63']);
  assert.deepEqual(out.rows[3]!.slice(0, 3), [-10, 1.5, '1.63']);
});

test('most_frequent picks the commonest value and breaks ties with the smallest', async () => {
  const rows = [
    [3, null, null, 'b', null],
    [3, null, null, 'a', null],
    [1, null, null, 'b', null],
    [1, null, null, 'a', null],
    [null, null, null, null, null],
  ];
  const out = await runOp(impute, { n: { strategy: 'most_frequent' }, s: { strategy: 'most_frequent' } }, schema, rows);
  assert.deepEqual(out.rows[4], [1, null, null, 'a', null]);
});

test('previous carries the last non-null value forward and leaves leading nulls', async () => {
  const rows = [[null], [1], [null], [null], [4], [null]];
  const out = await runOp(impute, { n: { strategy: 'previous' } }, [{ name: 'n', type: 'integer' }], rows);
  assert.deepEqual(out.rows, [[null], [1], [1], [1], [4], [4]]);
});

test('a column with no values at all keeps its nulls under mean', async () => {
  const out = await runOp(impute, { x: { strategy: 'mean' } }, schema, [[1, null, null, null, null]]);
  assert.deepEqual(out.rows, [[1, null, null, null, null]]);
});
