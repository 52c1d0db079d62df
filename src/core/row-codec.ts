import type { FieldType, Row, Schema, Value } from './schema.js';

/**
 * Typed rows travel between stages in PostgreSQL's COPY text format: tab-separated, `\N` for null,
 * backslash escapes for \\ \t \n \r. Why this format: the postgres sink streams buffered parts into
 * `COPY … FROM STDIN` without parsing a single row, and encoding is a join, not a JSON.stringify.
 * Types come from the manifest's schema; timestamps are ISO-8601 UTC, booleans t/f, json as JSON text.
 */
const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPES = /[\\\t\n\r]/g;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const UNESCAPES = /\\(.)/g;
const UNESCAPED: Record<string, string> = { '\\': '\\', t: '\t', n: '\n', r: '\r', b: '\b', f: '\f', v: '\v' };

export function escapeText(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(ESCAPES, (c) => ESCAPED[c]!) : s;
}

export function unescapeText(s: string): string {
  return s.indexOf('\\') === -1 ? s : s.replace(UNESCAPES, (_, c: string) => UNESCAPED[c] ?? c);
}

type Encoder = (v: Value) => string;
type Decoder = (s: string) => Value;

const encoders: Record<FieldType, Encoder> = {
  string: (v) => escapeText(v as string),
  integer: (v) => String(v),
  number: (v) => String(v),
  decimal: (v) => v as string,
  boolean: (v) => (v ? 't' : 'f'),
  timestamp: (v) => new Date(v as number).toISOString(),
  date: (v) => v as string,
  json: (v) => escapeText(JSON.stringify(v)),
};

const decoders: Record<FieldType, Decoder> = {
  string: unescapeText,
  integer: Number,
  number: Number,
  decimal: (s) => s,
  boolean: (s) => s === 't',
  timestamp: (s) => Date.parse(s),
  date: (s) => s,
  json: (s) => JSON.parse(unescapeText(s)) as Value,
};

/** Compiles a function that turns a row into one line of COPY text, newline included. */
export function rowEncoder(schema: Schema): (row: Row) => string {
  const encs = schema.map((f) => encoders[f.type]);
  const n = encs.length;
  return (row) => {
    let line = '';
    for (let i = 0; i < n; i++) {
      const v = row[i];
      if (i > 0) line += '\t';
      line += v === null || v === undefined ? '\\N' : encs[i]!(v);
    }
    return line + '\n';
  };
}

/** Compiles a function that turns one line of COPY text (without its newline) back into a row. */
export function rowDecoder(schema: Schema): (line: string) => Row {
  const decs = schema.map((f) => decoders[f.type]);
  const n = decs.length;
  return (line) => {
    const cells = line.split('\t');
    if (cells.length !== n) throw new Error(`expected ${n} columns in buffered row, found ${cells.length}`);
    const row: Row = new Array(n);
    for (let i = 0; i < n; i++) {
      const c = cells[i]!;
      row[i] = c === '\\N' ? null : decs[i]!(c);
    }
    return row;
  };
}

/** Formats a value as text for display, CSV output or messages (not for the buffer). */
export function formatValue(type: FieldType, v: Value): string {
  if (v === null) return '';
  if (type === 'timestamp') return new Date(v as number).toISOString();
  if (type === 'json') return JSON.stringify(v);
  return String(v);
}
