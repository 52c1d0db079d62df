import { test } from 'node:test';
import { seededRandom } from '../support/random.js';
import assert from 'node:assert/strict';
import { rowDecoder, rowEncoder, rowsDecoder } from '../../src/core/row-codec.js';
import type { Row, Schema } from '../../src/core/schema.js';
import { formatTimestamp, parseIsoTimestamp } from '../../src/core/timestamp-text.js';
import { cellFromText, coerce, INVALID } from '../../src/stage/coerce.js';
import { encodeValue } from '../../src/core/row-codec.js';

const prng = seededRandom;

test('the fast timestamp formatter writes exactly what toISOString writes, across centuries, leap days and milliseconds', () => {
  const rand = prng(1);
  const edge = [0, -1, 951782400000, 951868799999, 253402300799999, -62167219200000, Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(2100, 2, 1)];
  for (let i = 0; i < 200_000; i++) edge.push(Math.floor((rand() - 0.3) * 4e12));
  for (const t of edge) assert.equal(formatTimestamp(t), new Date(t).toISOString(), String(t));
});

test('the fast timestamp parser agrees with Date.parse on valid ISO text and refuses impossible dates', () => {
  const rand = prng(2);
  for (let i = 0; i < 100_000; i++) {
    const iso = new Date(Math.floor(rand() * 4e12)).toISOString();
    assert.equal(parseIsoTimestamp(iso), Date.parse(iso), iso);
  }
  assert.equal(parseIsoTimestamp('2024-02-29T12:00:00Z'), Date.UTC(2024, 1, 29, 12));
  for (const bad of ['2023-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-01-01T24:00:00Z', '2026-1-01T00:00:00Z', 'abcd-ef-ghT00:00:00Z']) {
    assert.ok(Number.isNaN(parseIsoTimestamp(bad)), bad);
  }
});

test("adapt's shortcut from raw text to buffer text gives what coercing and encoding would", () => {
  const rand = prng(3);
  const samples: Record<string, string[]> = {
    integer: ['0', '-0', '007', '+5', '42', '-9007199254740991', '9007199254740992', '1e3', '12a', ' 3'],
    decimal: ['0', '00.50', '-0.0', '+1.25', '.5', '5.', '123456789012345678901234.5', 'x'],
    timestamp: ['2026-01-01T00:00:00Z', '2026-01-01 00:00:00', '2026-01-01T00:00:00.123456Z', '2026-01-01T01:00:00+01:00', '2026-01-01T01:00:00+0100', '2026-01-01', '2026-02-30T00:00:00Z', '2026-01-01T00:00:00.5Z'],
    string: ['plain', 'tab\there', 'back\\slash', 'new\nline', ''],
    number: ['1', '1.5', '-2e10', 'NaN', '0x10'],
    boolean: ['true', 'F', 'yes', 'maybe'],
    date: ['2026-01-31', '2026-02-29', '2024-02-29'],
    json: ['{"a":1}', '[1,2', '"x"'],
  };
  for (let i = 0; i < 2000; i++) samples.integer!.push(String(Math.floor((rand() - 0.5) * 1e12)));
  for (const [type, values] of Object.entries(samples)) {
    for (const v of values) {
      const slow = coerce(type as never, v);
      const expected = slow === INVALID ? INVALID : slow === null ? '\\N' : encodeValue(type as never, slow);
      assert.deepEqual(cellFromText(type as never, v), expected, `${type} ${JSON.stringify(v)}`);
    }
  }
});

test('rows survive encoding and chunked decoding unchanged, escapes and nulls included', () => {
  const schema: Schema = [
    { name: 's', type: 'string' }, { name: 'i', type: 'integer' }, { name: 'n', type: 'number' }, { name: 'd', type: 'decimal' },
    { name: 'b', type: 'boolean' }, { name: 't', type: 'timestamp' }, { name: 'day', type: 'date' }, { name: 'j', type: 'json' },
  ];
  const rand = prng(4);
  const strings = ['', 'a', 'tab\t', 'nl\n', 'cr\r', 'bs\\', '\\N', 'ünï', '\u2028'];
  const rows: Row[] = Array.from({ length: 5000 }, (_, k) => [
    rand() < 0.1 ? null : strings[k % strings.length]! + k,
    rand() < 0.1 ? null : Math.floor((rand() - 0.5) * 1e15),
    rand() < 0.1 ? null : (rand() - 0.5) * 1e6,
    rand() < 0.1 ? null : `${Math.floor(rand() * 1000)}.${k % 100}`,
    rand() < 0.1 ? null : rand() < 0.5,
    rand() < 0.1 ? null : Math.floor(rand() * 4e12),
    rand() < 0.1 ? null : '2026-03-0' + (1 + (k % 9)),
    rand() < 0.1 ? null : { k, s: strings[k % strings.length]! },
  ]);
  const encode = rowEncoder(schema);
  const text = rows.map(encode).join('');
  const decodeLine = rowDecoder(schema);
  assert.deepEqual(text.split('\n').slice(0, -1).map(decodeLine), rows);
  const decodeChunk = rowsDecoder(schema);
  const out: Row[] = [];
  decodeChunk(text, 0, text.length - 1, out); // `to` is the end of the last line, before its newline
  assert.deepEqual(out, rows);
});
