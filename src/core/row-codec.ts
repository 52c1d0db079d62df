import type { FieldType, Row, Schema, Value } from './schema.js';

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

const DAY_MS = 86_400_000;
/** Time-clip bound of ECMAScript dates: beyond it toISOString throws, as it should here too. */
const MAX_TIME = 8.64e15;

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  if (m <= 2) y--;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

const MONTH_DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Value of `count` ASCII digits at `at`, or -1 when one is not a digit. */
function digits(s: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/**
 * Parses the common shapes `YYYY-MM-DD` and `YYYY-MM-DDTHH:MM:SS[.fff…][Z]` (UTC) by arithmetic, with
 * milliseconds from the first three fraction digits. Returns NaN for any other shape and for out-of-range
 * parts, so callers fall back to their general (slower) parsing and its error messages.
 */
export function parseIsoTimestamp(s: string, from = 0, to = s.length): number {
  const len = to - from;
  if (len !== 10 && len < 19) return NaN;
  if (s.charCodeAt(from + 4) !== 45 || s.charCodeAt(from + 7) !== 45) return NaN;
  const y = digits(s, from, 4);
  const mo = digits(s, from + 5, 2);
  const d = digits(s, from + 8, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1) return NaN;
  if (d > MONTH_DAYS[mo]! && !(mo === 2 && d === 29 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) return NaN;
  const day = daysFromCivil(y, mo, d) * DAY_MS;
  if (len === 10) return day;
  if (s.charCodeAt(from + 10) !== 84 || s.charCodeAt(from + 13) !== 58 || s.charCodeAt(from + 16) !== 58) return NaN;
  const h = digits(s, from + 11, 2);
  const mi = digits(s, from + 14, 2);
  const sec = digits(s, from + 17, 2);
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return NaN;
  let ms = 0;
  let i = from + 19;
  if (i < to && s.charCodeAt(i) === 46) {
    i++;
    const start = i;
    while (i < to) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      if (i - start < 3) ms = ms * 10 + c;
      i++;
    }
    if (i === start) return NaN;
    for (let k = i - start; k < 3; k++) ms *= 10;
  }
  if (i < to && (s.charCodeAt(i) | 32) === 122) i++;
  if (i !== to) return NaN;
  return day + ((h * 60 + mi) * 60 + sec) * 1000 + ms;
}

const TWO = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
let secondsTable: string[] | null = null;
let minuteStart = NaN;
let minutePrefix = '';

/**
 * `new Date(ms).toISOString()`, fast: consecutive timestamps mostly share their minute, so the
 * `YYYY-MM-DDTHH:MM:` prefix is cached and the rest comes from a table of "SS.mmmZ" strings.
 */
export function formatTimestamp(v: number): string {
  if (!(v >= -MAX_TIME && v <= MAX_TIME)) return new Date(v).toISOString();
  const t = Math.trunc(v);
  let rest = t - minuteStart;
  if (!(rest >= 0 && rest < 60_000)) {
    minuteStart = Math.floor(t / 60_000) * 60_000;
    const iso = new Date(minuteStart).toISOString();
    minutePrefix = iso.slice(0, iso.length - 7);
    rest = t - minuteStart;
  }
  secondsTable ??= Array.from({ length: 60_000 }, (_, i) => `${TWO[(i / 1000) | 0]}.${String(i % 1000).padStart(3, '0')}Z`);
  return minutePrefix + secondsTable[rest]!;
}

/** Encodes one non-null value of `type` as a COPY text cell. */
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
const KIND: Record<FieldType, number> = { string: STRING, integer: INTEGER, number: NUMBER, decimal: VERBATIM, date: VERBATIM, boolean: BOOLEAN, timestamp: TIMESTAMP, json: JSON_ };

/**
 * Compiles a function that turns a row into one line of COPY text, without its newline. The cells go into
 * one reused array joined natively: a flat string per row instead of a rope of a dozen concatenations.
 */
export function rowLineEncoder(schema: Schema): (row: Row) => string {
  const kinds = Int32Array.from(schema, (f) => KIND[f.type]);
  const n = kinds.length;
  const cells: string[] = new Array<string>(n).fill('');
  return (row) => {
    for (let i = 0; i < n; i++) {
      const v = row[i];
      let c: string;
      if (v === null || v === undefined) c = '\\N';
      else {
        switch (kinds[i]) {
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
          default:
            c = escapeText(JSON.stringify(v));
        }
      }
      cells[i] = c;
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
export function rowsDecoder(schema: Schema): (text: string, from: number, to: number, out: Row[]) => void {
  const kinds = Int32Array.from(schema, (f) => KIND[f.type]);
  const n = kinds.length;
  const one = rowDecoder(schema);
  return (text, from, to, out) => {
    let pos = from;
    while (pos <= to) {
      let nl = text.indexOf('\n', pos);
      if (nl === -1 || nl > to) nl = to;
      const lineStart = pos;
      const row: Row = new Array(n);
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
        if (end - pos === 2 && text.charCodeAt(pos) === 92 && text.charCodeAt(pos + 1) === 78) row[i] = null;
        else {
          switch (kinds[i]) {
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
