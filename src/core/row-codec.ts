import type { FieldType, Row, Schema, Value } from './schema.js';
import { formatTimestamp, parseIsoTimestamp } from './timestamp-text.js';

/**
 * Typed rows travel between stages in PostgreSQL's COPY text format: tab-separated, `\N` for null,
 * backslash escapes for \\ \t \n \r. Why this format: the postgres sink streams buffered parts into
 * `COPY … FROM STDIN` without parsing a single row, and encoding is a join, not a JSON.stringify.
 * Types come from the manifest's schema; timestamps are ISO-8601 UTC, booleans t/f, json as JSON text.
 */
const ESCAPES = /[\\\t\n\r]/g;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const UNESCAPES = /\\(.)/g;
const UNESCAPED: Record<string, string> = { '\\': '\\', t: '\t', n: '\n', r: '\r', b: '\b', f: '\f', v: '\v' };

/** True when `s` holds a character COPY text must escape; four native searches beat a regex or a char loop. */
function needsEscape(s: string): boolean {
  return s.indexOf('\\') !== -1 || s.indexOf('\t') !== -1 || s.indexOf('\n') !== -1 || s.indexOf('\r') !== -1;
}

export function escapeText(s: string): string {
  return needsEscape(s) ? s.replace(ESCAPES, (c) => ESCAPED[c]!) : s;
}

export function unescapeText(s: string): string {
  return s.indexOf('\\') === -1 ? s : s.replace(UNESCAPES, (_, c: string) => UNESCAPED[c] ?? c);
}

export function encodeValue(type: FieldType, v: Value): string {
  switch (type) {
    case 'string':
      return escapeText(v as string);
    case 'integer':
    case 'number':
      return String(v);
    case 'decimal':
    case 'date':
      return v as string;
    case 'boolean':
      return v ? 't' : 'f';
    case 'timestamp':
      return formatTimestamp(v as number);
    case 'json':
      return escapeText(JSON.stringify(v));
  }
}

// Field types as small integers, so the per-cell switch of the codecs is over a monomorphic Int array.
const STRING = 0;
const INTEGER = 1;
const NUMBER = 2;
const VERBATIM = 3; // decimal, date: the text is the value
const BOOLEAN = 4;
const TIMESTAMP = 5;
const JSON_ = 6;
// Pass-through cells (see CellLayout): kept as their COPY text, never decoded.
const RAW = 7; // one column's cell, or the start of a span of columns
const SPANNED = 8; // inside a span: no cell of its own
const UNUSED = 9; // decoder only: a column nothing reads or writes, never sliced
const KIND: Record<FieldType, number> = { string: STRING, integer: INTEGER, number: NUMBER, decimal: VERBATIM, date: VERBATIM, boolean: BOOLEAN, timestamp: TIMESTAMP, json: JSON_ };

/**
 * How a codec treats each column, for pass-through columns (src/stage/column-pruning.ts). Per column:
 * 0 — decode and encode the value by its type;
 * k ≥ 1 — the cell is raw COPY text spanning this column and the k−1 after it (tabs and `\N` included):
 *   the decoder slices it as one string and the encoder writes it back unchanged, so the bytes equal a
 *   decode/encode round trip without its work;
 * −1 — a column inside such a span: decoded as '' and written as nothing (its text is in the span);
 * −2 — decoder only: a column nothing reads or writes, decoded as null without being sliced.
 */
export type CellLayout = readonly number[];

function cellKinds(schema: Schema, layout: CellLayout | undefined): Int32Array {
  return Int32Array.from(schema, (f, i) => {
    const code = layout?.[i] ?? 0;
    return code > 0 ? RAW : code === -1 ? SPANNED : code === -2 ? UNUSED : KIND[f.type];
  });
}

/**
 * Compiles a function that turns a row into one line of COPY text, without its newline. The cells go into
 * one reused array joined natively: a flat string per row instead of a rope of a dozen concatenations.
 */
export function rowLineEncoder(schema: Schema, layout?: CellLayout): (row: Row) => string {
  const kinds = cellKinds(schema, layout);
  const n = kinds.length;
  const cells: string[] = new Array<string>(kinds.filter((k) => k !== SPANNED).length).fill('');
  return (row) => {
    let k = 0;
    for (let i = 0; i < n; i++) {
      const kind = kinds[i];
      if (kind === SPANNED) continue;
      const v = row[i];
      let c: string;
      if (v === null || v === undefined) c = '\\N';
      else {
        switch (kind) {
          case STRING:
            c = escapeText(v as string);
            break;
          case INTEGER:
          case NUMBER:
            c = String(v);
            break;
          case VERBATIM:
            c = v as string;
            break;
          case BOOLEAN:
            c = v ? 't' : 'f';
            break;
          case TIMESTAMP:
            c = formatTimestamp(v as number);
            break;
          case RAW:
            c = v as string;
            break;
          default:
            c = escapeText(JSON.stringify(v));
        }
      }
      cells[k++] = c;
    }
    return cells.join('\t');
  };
}

/** Compiles a function that turns a row into one line of COPY text, newline included. */
export function rowEncoder(schema: Schema): (row: Row) => string {
  const line = rowLineEncoder(schema);
  return (row) => line(row) + '\n';
}

/** Compiles a function that turns one line of COPY text (without its newline) back into a row. */
export function rowDecoder(schema: Schema): (line: string) => Row {
  const kinds = Int32Array.from(schema, (f) => KIND[f.type]);
  const n = kinds.length;
  return (line) => {
    const cells = line.split('\t');
    if (cells.length !== n) throw new Error(`expected ${n} columns in buffered row, found ${cells.length}`);
    const row: Row = new Array(n);
    for (let i = 0; i < n; i++) {
      const c = cells[i]!;
      if (c === '\\N') {
        row[i] = null;
        continue;
      }
      switch (kinds[i]) {
        case STRING:
          row[i] = c.indexOf('\\') === -1 ? c : unescapeText(c);
          break;
        case INTEGER:
        case NUMBER:
          row[i] = Number(c);
          break;
        case VERBATIM:
          row[i] = c;
          break;
        case BOOLEAN:
          row[i] = c === 't';
          break;
        case TIMESTAMP: {
          // The buffer holds toISOString output: parsed by arithmetic; anything else as Date.parse did.
          const t = c.length === 24 && c.charCodeAt(23) === 90 ? parseIsoTimestamp(c) : NaN;
          row[i] = t === t ? t : Date.parse(c);
          break;
        }
        default:
          row[i] = JSON.parse(unescapeText(c)) as Value;
      }
    }
    return row;
  };
}

/** Value of the digits text[from, to) with an optional leading '-', or NaN when it is not that short shape. */
function smallInteger(text: string, from: number, to: number): number {
  const neg = text.charCodeAt(from) === 45;
  let i = neg ? from + 1 : from;
  if (i === to || to - i > 15) return NaN;
  let v = 0;
  for (; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

/**
 * Compiles a function that decodes the lines of text[from, to) — separated by "\n", the last one ending
 * at `to` — into rows appended to `out`. The same rows as `rowDecoder` per line, but cells are found in
 * the chunk itself: no string per line, and no string at all for integer cells.
 */
export function rowsDecoder(schema: Schema, layout?: CellLayout): (text: string, from: number, to: number, out: Row[]) => void {
  const kinds = cellKinds(schema, layout);
  const spans = Int32Array.from(schema, (_, i) => Math.max(layout?.[i] ?? 0, 0));
  const n = kinds.length;
  const one = rowDecoder(schema);
  return (text, from, to, out) => {
    let pos = from;
    while (pos <= to) {
      let nl = text.indexOf('\n', pos);
      if (nl === -1 || nl > to) nl = to;
      const lineStart = pos;
      const row: Row = new Array(n);
      // The span being read: where its text starts, the column holding it, and how many columns it still covers.
      let spanFrom = 0;
      let spanAt = 0;
      let spanLeft = 0;
      for (let i = 0; i < n; i++) {
        let end = nl;
        if (i < n - 1) {
          end = text.indexOf('\t', pos);
          if (end === -1 || end > nl) end = -1;
        } else {
          const tab = text.indexOf('\t', pos);
          if (tab !== -1 && tab < nl) end = -1;
        }
        if (end === -1) {
          one(text.slice(lineStart, nl)); // throws the column-count error
          break;
        }
        const kind = kinds[i];
        if (kind === RAW) {
          spanLeft = spans[i]! - 1;
          if (spanLeft === 0) row[i] = text.slice(pos, end);
          else {
            spanFrom = pos;
            spanAt = i;
          }
        } else if (kind === SPANNED) {
          row[i] = '';
          if (--spanLeft === 0) row[spanAt] = text.slice(spanFrom, end);
        } else if (kind === UNUSED) row[i] = null;
        else if (end - pos === 2 && text.charCodeAt(pos) === 92 && text.charCodeAt(pos + 1) === 78) row[i] = null;
        else {
          switch (kind) {
            case STRING: {
              const c = text.slice(pos, end);
              row[i] = c.indexOf('\\') === -1 ? c : unescapeText(c);
              break;
            }
            case INTEGER: {
              const v = smallInteger(text, pos, end);
              row[i] = v === v ? v : Number(text.slice(pos, end));
              break;
            }
            case NUMBER:
              row[i] = Number(text.slice(pos, end));
              break;
            case VERBATIM:
              row[i] = text.slice(pos, end);
              break;
            case BOOLEAN:
              row[i] = end - pos === 1 && text.charCodeAt(pos) === 116;
              break;
            case TIMESTAMP: {
              const t = end - pos === 24 && text.charCodeAt(end - 1) === 90 ? parseIsoTimestamp(text, pos, end) : NaN;
              row[i] = t === t ? t : Date.parse(text.slice(pos, end));
              break;
            }
            default:
              row[i] = JSON.parse(unescapeText(text.slice(pos, end))) as Value;
          }
        }
        pos = end + 1;
      }
      out.push(row);
      pos = nl + 1;
    }
  };
}

/** Formats a value as text for display, CSV output or messages (not for the buffer). */
export function formatValue(type: FieldType, v: Value): string {
  if (v === null) return '';
  if (type === 'timestamp') return formatTimestamp(v as number);
  if (type === 'json') return JSON.stringify(v);
  return String(v);
}
