import { formatValue } from '../../src/core/row-codec.js';
import type { FieldType, Row, Schema, Value } from '../../src/core/schema.js';

/** Turns a row into one output line, newline included. Compiled once per schema: nothing per row but the values. */
export type LineEncoder = (row: Row) => string;

/**
 * CSV per RFC 4180: a value is quoted when it holds the delimiter, a quote, CR or LF, and quotes inside
 * are doubled. null is an empty field and an empty string is `""`, so the two stay distinguishable (the
 * convention of PostgreSQL's CSV COPY). Values are written by formatValue: timestamps ISO-8601 UTC,
 * booleans true/false, json as JSON text.
 */
export function csvEncoder(schema: Schema, delimiter: string): { header: string; line: LineEncoder } {
  const special = new RegExp(`[${delimiter.replace(/[\\\]^-]/g, '\\$&')}"\\r\\n]`);
  const cell = (s: string) => (s.length === 0 ? '""' : special.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const types = schema.map((f) => f.type);
  // Numbers, booleans, dates and timestamps are made of these characters only: unless the delimiter is
  // one of them, such a column never needs the quoting check.
  const plainSafe = !/[0-9A-Za-z.:+-]/.test(delimiter);
  const check = types.map((t) => !plainSafe || t === 'string' || t === 'json');
  const n = types.length;
  return {
    header: schema.map((f) => cell(f.name)).join(delimiter) + '\n',
    line: (row) => {
      let out = '';
      for (let i = 0; i < n; i++) {
        if (i > 0) out += delimiter;
        const v = row[i];
        if (v === null || v === undefined) continue;
        const s = formatValue(types[i]!, v);
        out += check[i] ? cell(s) : s;
      }
      return out + '\n';
    },
  };
}

/**
 * NDJSON: one object per row, keys in schema order, typed values: integer and number as JSON numbers,
 * decimal as a string (a JSON number would be read back through a double and lose digits), timestamp as
 * an ISO-8601 UTC string, date as "YYYY-MM-DD", json as itself, null as null.
 */
const jsonValue: Record<FieldType, (v: Value) => string> = {
  string: (v) => JSON.stringify(v),
  integer: (v) => String(v),
  number: (v) => String(v),
  decimal: (v) => `"${v as string}"`,
  boolean: (v) => (v ? 'true' : 'false'),
  timestamp: (v) => `"${new Date(v as number).toISOString()}"`,
  date: (v) => `"${v as string}"`,
  json: (v) => JSON.stringify(v),
};

export function ndjsonEncoder(schema: Schema): LineEncoder {
  const keys = schema.map((f, i) => (i === 0 ? '{' : ',') + JSON.stringify(f.name) + ':');
  const encs = schema.map((f) => jsonValue[f.type]);
  const n = keys.length;
  return (row) => {
    if (n === 0) return '{}\n';
    let out = '';
    for (let i = 0; i < n; i++) {
      const v = row[i];
      out += keys[i]! + (v === null || v === undefined ? 'null' : encs[i]!(v));
    }
    return out + '}\n';
  };
}
