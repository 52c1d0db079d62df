import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TransformError } from '../../src/core/errors.js';
import type { Schema } from '../../src/core/schema.js';
import { drop } from '../../transforms/drop.js';
import { rename } from '../../transforms/rename.js';
import { select } from '../../transforms/select.js';
import { compileError, runOp } from './op-harness.js';

const schema: Schema = [
  { name: 'id', type: 'integer' },
  { name: 'views', type: 'integer' },
  { name: 'country', type: 'string' },
];
const rows = [
  [1, 10, 'ES'],
  [2, null, null],
];

test('rename changes names and keeps positions, types and values', async () => {
  const out = await runOp(rename, { views: 'page_views' }, schema, rows);
  assert.deepEqual(out.schema, [
    { name: 'id', type: 'integer' },
    { name: 'page_views', type: 'integer' },
    { name: 'country', type: 'string' },
  ]);
  assert.deepEqual(out.rows, rows);
});

test('rename may swap two names', async () => {
  const out = await runOp(rename, { id: 'views', views: 'id' }, schema, rows);
  assert.deepEqual(out.schema.map((f) => f.name), ['views', 'id', 'country']);
});

test('renaming an unknown column names the step, the column and the known columns', () => {
  const err = compileError(rename, { vews: 'x' }, schema, 'transform[2].rename');
  assert.ok(err instanceof TransformError);
  assert.equal(err.message, "transform[2].rename: unknown column 'vews'; known: id, views, country");
});

test('renaming onto an existing name is refused', () => {
  const err = compileError(rename, { views: 'country' }, schema);
  assert.match(err.message, /column 'country' would appear twice/);
});

test('select keeps only the listed columns in the listed order', async () => {
  const out = await runOp(select, ['country', 'id'], schema, rows);
  assert.deepEqual(out.schema.map((f) => f.name), ['country', 'id']);
  assert.deepEqual(out.rows, [['ES', 1], [null, 2]]);
});

test('select refuses unknown and repeated columns', () => {
  assert.match(compileError(select, ['id', 'nope'], schema).message, /unknown column 'nope'; known: id, views, country/);
  assert.match(compileError(select, ['id', 'id'], schema).message, /'id' is listed twice/);
});

test('drop removes the listed columns and keeps the order of the rest', async () => {
  const out = await runOp(drop, ['views'], schema, rows);
  assert.deepEqual(out.schema.map((f) => f.name), ['id', 'country']);
  assert.deepEqual(out.rows, [[1, 'ES'], [2, null]]);
});

test('drop refuses unknown columns and dropping everything', () => {
  assert.match(compileError(drop, ['nope'], schema).message, /unknown column 'nope'/);
  assert.match(compileError(drop, ['id', 'views', 'country'], schema).message, /leaves no output/);
});
