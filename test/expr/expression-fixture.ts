import type { Row, Schema, Value } from '../../src/core/schema.js';
import { compileExpression } from '../../src/expr/index.js';

/** One row of every type; tests evaluate expressions against it (or a variant with some nulls). */
export const SCHEMA: Schema = [
  { name: 'views', type: 'integer' },
  { name: 'clicks', type: 'integer' },
  { name: 'country', type: 'string' },
  { name: 'ts', type: 'timestamp' },
  { name: 'day', type: 'date' },
  { name: 'price', type: 'decimal' },
  { name: 'payload', type: 'json' },
  { name: 'ratio', type: 'number' },
  { name: 'active', type: 'boolean' },
  { name: 'missing', type: 'integer' },
  { name: 'nothing', type: 'string' },
  { name: 'flag_null', type: 'boolean' },
];

export const ROW: Row = [
  200, 30, 'ES', Date.UTC(2026, 0, 15, 10, 30, 5, 250), '2026-02-28', '12.345',
  { user: { name: 'ana', tags: ['a', 'b'], age: 31 }, 'odd key': true }, 2.5, true, null, null, null,
];

export function evaluate(source: string, row: Row = ROW, schema: Schema = SCHEMA): Value {
  return compileExpression(source, schema).evaluate(row);
}

export function typeOf(source: string, schema: Schema = SCHEMA): string {
  return compileExpression(source, schema).type;
}
