import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExpressionError } from '../../src/core/errors.js';
import type { Row, Schema } from '../../src/core/schema.js';
import { derive } from '../../transforms/derive.js';
import { filter } from '../../transforms/filter.js';
import { compileError, runOp } from './op-harness.js';

const schema: Schema = [
  { name: 'views', type: 'integer' },
  { name: 'clicks', type: 'integer' },
  { name: 'country', type: 'string' },
];
const rows: Row[] = [
  [10, 2, 'ES'],
  [0, 0, 'FR'],
  [5, 1, 'ZZ'],
  [null, 1, null],
];

test('filter keeps only the rows where the expression is true (null drops the row)', async () => {
  const out = await runOp(filter, "views > 0 and country <> 'ZZ'", schema, rows);
  assert.deepEqual(out.rows, [[10, 2, 'ES']]);
  assert.deepEqual(out.schema, schema);
});

test('a filter that is not boolean is refused, naming the step', () => {
  const err = compileError(filter, 'views + 1', schema, 'transform[0].filter');
  assert.ok(err instanceof ExpressionError);
  assert.match(err.message, /^transform\[0\]\.filter: a filter must be a boolean expression; "views \+ 1" is integer/);
});

test('an expression error keeps its column and names the step', () => {
  const err = compileError(filter, 'vews > 0', schema, 'transform[4].filter');
  assert.ok(err instanceof ExpressionError);
  assert.match(err.message, /^transform\[4\]\.filter: /);
  assert.equal(err.column, 1);
});

test('derive appends new columns, replaces existing ones in place, and later expressions see earlier ones', async () => {
  const out = await runOp(derive, { ctr: 'clicks / views', views: 'views * 2', double_ctr: 'ctr * 2' }, schema, rows);
  assert.deepEqual(out.schema, [
    { name: 'views', type: 'integer' },
    { name: 'clicks', type: 'integer' },
    { name: 'country', type: 'string' },
    { name: 'ctr', type: 'number' },
    { name: 'double_ctr', type: 'number' },
  ]);
  assert.deepEqual(out.rows, [
    [20, 2, 'ES', 0.2, 0.4],
    [0, 0, 'FR', null, null],
    [10, 1, 'ZZ', 0.2, 0.4],
    [null, 1, null, null, null],
  ]);
});

test('replacing a column may change its type', async () => {
  const out = await runOp(derive, { views: "views > 0" }, schema, rows);
  assert.deepEqual(out.schema[0], { name: 'views', type: 'boolean' });
  assert.deepEqual(out.rows.map((r) => r[0]), [true, false, true, null]);
});

test('a derive expression error names the derived column', () => {
  const err = compileError(derive, { ctr: 'clicks / nope' }, schema, 'transform[1].derive');
  assert.match(err.message, /^transform\[1\]\.derive\.ctr: /);
});
