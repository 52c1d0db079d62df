import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Schema } from '../../src/core/schema.js';
import { flatten } from '../../transforms/flatten.js';
import { compileContext, compileError, runOp } from './op-harness.js';

const schema: Schema = [
  { name: 'id', type: 'integer' },
  { name: 'payload', type: 'json' },
  { name: 'tail', type: 'string' },
];

test('discovery finds every key path, infers types and orders columns by name', async () => {
  const rows = [
    [1, { b: 1, a: { x: 'u', y: 1.5 }, tags: ['t'] }, 'z'],
    [2, { b: 2, a: { y: 2 }, flag: true }, 'z'],
    [3, null, 'z'],
  ];
  const out = await runOp(flatten, { field: 'payload' }, schema, rows);
  assert.deepEqual(out.schema, [
    { name: 'id', type: 'integer' },
    { name: 'payload_a_x', type: 'string' },
    { name: 'payload_a_y', type: 'number' },
    { name: 'payload_b', type: 'integer' },
    { name: 'payload_flag', type: 'boolean' },
    { name: 'payload_tags', type: 'json' },
    { name: 'tail', type: 'string' },
  ]);
  assert.deepEqual(out.rows, [
    [1, 'u', 1.5, 1, null, ['t'], 'z'],
    [2, null, 2, 2, true, null, 'z'],
    [3, null, null, null, null, null, 'z'],
  ]);
});

test('max_depth keeps deeper objects as json and a path that is sometimes scalar stays json', async () => {
  const rows = [
    [1, { a: { b: { c: 1 } }, m: { k: 1 } }, ''],
    [2, { m: 5 }, ''],
  ];
  const out = await runOp(flatten, { field: 'payload', max_depth: 2, separator: '.', prefix: '', keep: true }, schema, rows);
  assert.deepEqual(out.schema.map((f) => `${f.name}:${f.type}`), ['id:integer', 'payload:json', 'a.b:json', 'm:json', 'tail:string']);
  assert.deepEqual(out.rows[0]!.slice(2, 4), [{ c: 1 }, { k: 1 }]);
  assert.deepEqual(out.rows[1]!.slice(2, 4), [null, 5]);
});

test('explicit fields stream with their declared types and reject values that do not fit', async () => {
  const rows = [
    [1, { user: { id: '7', name: 'ann' }, at: '2026-01-02T03:04:05Z' }, 'x'],
    [2, { user: { id: 'seven' } }, 'x'],
    [3, [1, 2], 'x'],
  ];
  const op = flatten.compile(flatten.config.parse({ field: 'payload', fields: { 'user.id': 'integer', at: 'timestamp' } }), schema, compileContext());
  assert.equal(op.kind, 'stream', 'declared fields need no discovery pass');
  const out = await runOp(flatten, { field: 'payload', fields: { 'user.id': 'integer', at: 'timestamp' } }, schema, rows);
  assert.deepEqual(out.schema.map((f) => f.name), ['id', 'payload_user_id', 'payload_at', 'tail']);
  assert.deepEqual(out.rows, [[1, 7, Date.UTC(2026, 0, 2, 3, 4, 5), 'x']]);
  assert.deepEqual(out.rejects.map((r) => r.reason), ['payload.user.id: "seven" is not a safe integer', 'payload: expected a JSON object, found array']);
});

test('flatten refuses a column that is not json and names that clash', async () => {
  assert.match(compileError(flatten, { field: 'tail' }, schema).message, /column 'tail' is string; flatten needs json/);
  assert.match(compileError(flatten, { field: 'payload', prefix: '', fields: { tail: 'string' } }, schema).message, /'tail' would appear twice/);
});
