import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Schema } from '../../src/core/schema.js';
import { parse } from '../../transforms/parse.js';
import { compileError, runOp } from './op-harness.js';

const schema: Schema = [
  { name: 'id', type: 'integer' },
  { name: 'text', type: 'string' },
];
const rowsOf = (...texts: (string | null)[]) => texts.map((t, i) => [i, t]);

test('ISO timestamps with and without offsets become epoch milliseconds, in UTC by default', async () => {
  const out = await runOp(parse, { text: { as: 'timestamp' } }, schema, rowsOf('2026-03-01T12:30:00Z', '2026-03-01 12:30', '2026-03-01T12:30:00.123456+02:00', '2026-03-01'));
  assert.deepEqual(out.schema[1], { name: 'text', type: 'timestamp' });
  assert.deepEqual(out.rows.map((r) => new Date(r[1] as number).toISOString()), [
    '2026-03-01T12:30:00.000Z',
    '2026-03-01T12:30:00.000Z',
    '2026-03-01T10:30:00.123Z',
    '2026-03-01T00:00:00.000Z',
  ]);
});

test('a token format is read in the given time zone, across a daylight-saving change', async () => {
  const out = await runOp(parse, { text: { as: 'timestamp', format: 'DD/MM/YYYY HH:mm', timezone: 'Europe/Madrid' } }, schema, rowsOf('15/01/2026 10:00', '15/07/2026 10:00'));
  assert.deepEqual(out.rows.map((r) => new Date(r[1] as number).toISOString()), ['2026-01-15T09:00:00.000Z', '2026-07-15T08:00:00.000Z']);
});

test('dates come out as YYYY-MM-DD and impossible dates are rejected', async () => {
  const out = await runOp(parse, { text: { as: 'date', format: 'YYYYMMDD' } }, schema, rowsOf('20260131', '20260230'));
  assert.deepEqual(out.rows, [[0, '2026-01-31']]);
  assert.equal(out.rejects.length, 1);
  assert.equal(out.rejects[0]!.reason, "text: '20260230' is not a date (format 'YYYYMMDD')");
  assert.equal(out.rejects[0]!.field, 'text');
});

test('numbers honour the decimal and thousands separators and say which in the reject reason', async () => {
  const out = await runOp(parse, { text: { as: 'number', decimal: ',', thousands: '.' } }, schema, rowsOf('1.234,5', '-0,25', '12,3x', '1,5,0'));
  assert.deepEqual(out.rows, [[0, 1234.5], [1, -0.25]]);
  assert.deepEqual(out.rejects.map((r) => r.reason), [
    "text: '12,3x' is not a number (decimal ',' thousands '.')",
    "text: '1,5,0' is not a number (decimal ',' thousands '.')",
  ]);
});

test('decimals stay exact and canonical', async () => {
  const out = await runOp(parse, { text: { as: 'decimal' } }, schema, rowsOf('+007.50', '-0.00', '12345678901234567890.123456789'));
  assert.deepEqual(out.rows.map((r) => r[1]), ['7.50', '0.00', '12345678901234567890.123456789']);
});

test('integers must be whole and safe', async () => {
  const out = await runOp(parse, { text: { as: 'integer', thousands: ',' } }, schema, rowsOf('1,000', '1.5', '9007199254740993'));
  assert.deepEqual(out.rows, [[0, 1000]]);
  assert.deepEqual(out.rejects.map((r) => r.reason), ["text: '1.5' is not a safe integer (decimal '.' thousands ',')", "text: '9007199254740993' is not a safe integer (decimal '.' thousands ',')"]);
});

test('booleans accept the configured words, case-insensitively', async () => {
  const out = await runOp(parse, { text: { as: 'boolean', true: ['Sí'], false: ['No'] } }, schema, rowsOf('sí', 'NO', 'yes'));
  assert.deepEqual(out.rows, [[0, true], [1, false]]);
  assert.match(out.rejects[0]!.reason, /'yes' is not a boolean/);
});

test('null and blank text become null; on_invalid null keeps the row', async () => {
  const out = await runOp(parse, { text: { as: 'integer', on_invalid: 'null' } }, schema, rowsOf(null, '  ', 'abc', ' 42 '));
  assert.deepEqual(out.rows, [[0, null], [1, null], [2, null], [3, 42]]);
  assert.equal(out.rejects.length, 0);
});

test('parse refuses non-string columns, unknown zones and options of another type', () => {
  assert.match(compileError(parse, { id: { as: 'integer' } }, schema).message, /column 'id' is integer; parse needs string/);
  assert.match(compileError(parse, { text: { as: 'timestamp', timezone: 'Mars/Base' } }, schema).message, /unknown time zone 'Mars\/Base'/);
  assert.match(compileError(parse, { text: { as: 'integer', format: 'YYYY' } }, schema).message, /format and timezone apply to timestamp and date/);
  assert.match(compileError(parse, { text: { as: 'date', format: 'HH:mm' } }, schema).message, /needs YYYY, MM and DD/);
});
