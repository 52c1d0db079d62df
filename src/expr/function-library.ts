import { TransformError } from '../core/errors.js';
import type { JsonValue, Value } from '../core/schema.js';
import { absDecimal, ceilDecimal, compareDecimal, floorDecimal, roundDecimal } from './decimal-math.js';
import {
  dateDays, dateMs, daysDay, daysDow, daysMonth, daysYear, msOfDay, parseDateDays, truncMs, tsDate, tsDays, formatDays,
} from './temporal.js';
import { formatTimestamp, parseTimestampText } from '../core/timestamp-text.js';

/**
 * The only things generated code can call. Arguments are never null here (the generated code checks
 * first) unless the name says otherwise. Kept in a frozen null-prototype object so neither a name from
 * the code generator nor anything else can reach Object.prototype through it.
 */

const SURROGATE = /[\uD800-\uDFFF]/;

function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** SQL substring: 1-based, positions before the start count towards the length (substr('abc', 0, 2) = 'a'). */
function substring(s: string, start: number, length: number): string {
  const from = Math.max(start, 1) - 1;
  const to = length === Infinity ? Infinity : start + length - 1;
  if (to <= from) return '';
  if (!SURROGATE.test(s)) return s.slice(from, to === Infinity ? undefined : to);
  const chars = Array.from(s);
  return chars.slice(from, to === Infinity ? undefined : to).join('');
}

const EXPONENT = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/;

/** Plain decimal text of a finite double, also for values JavaScript prints with an exponent. */
function plainText(x: number): string {
  const s = String(x);
  const m = EXPONENT.exec(s);
  if (!m) return s;
  const digits = m[2]! + (m[3] ?? '');
  const point = 1 + Number(m[4]);
  if (point <= 0) return `${m[1]}0.${'0'.repeat(-point)}${digits}`;
  return `${m[1]}${digits.padEnd(point, '0')}`;
}

function clampPlaces(d: number): number {
  return d > 400 ? 400 : d < -400 ? -400 : d;
}

function halfAwayFromZero(x: number): number {
  const r = x < 0 ? -Math.round(-x) : Math.round(x);
  return r === 0 ? 0 : r;
}

function finiteOrNull(x: number): number | null {
  return x - x === 0 ? x : null;
}

function safeOrNull(x: number): number | null {
  return Number.isSafeInteger(x) ? (x === 0 ? 0 : x) : null;
}

function jsonAt(root: JsonValue, path: readonly (string | number)[]): JsonValue | null {
  let v: JsonValue | undefined = root;
  for (let i = 0; i < path.length; i++) {
    const key = path[i]!;
    if (v === null || typeof v !== 'object') return null;
    if (typeof key === 'number') {
      if (!Array.isArray(v) || key < 0 || key >= v.length) return null;
      v = v[key];
    } else {
      if (Array.isArray(v) || !Object.hasOwn(v, key)) return null;
      v = (v as { [k: string]: JsonValue })[key];
    }
  }
  return v === undefined ? null : v;
}

function jsonToText(v: Value): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

const NUMBER_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

const library = {
  // Conversions the generator inserts between representations; these accept null.
  to_num: (x: string | number | null) => (x === null ? null : Number(x)),
  to_ms: (x: string | null) => (x === null ? null : dateMs(x)),
  dcmp: compareDecimal,
  overflow(col: number, op: string): never {
    throw new TransformError(`integer overflow in '${op}' at expression column ${col}: the result is outside ±9007199254740991; convert an operand with to_number(…) to compute in floating point`, { details: { where: `column ${col}` } });
  },
  least_plain: (a: Value, b: Value) => (a === null ? b : b === null ? a : (b as number) < (a as number) ? b : a),
  greatest_plain: (a: Value, b: Value) => (a === null ? b : b === null ? a : (b as number) > (a as number) ? b : a),
  least_dec: (a: string | null, b: string | null) => (a === null ? b : b === null ? a : compareDecimal(b, a) < 0 ? b : a),
  greatest_dec: (a: string | null, b: string | null) => (a === null ? b : b === null ? a : compareDecimal(b, a) > 0 ? b : a),

  lower: (s: string) => s.toLowerCase(),
  upper: (s: string) => s.toUpperCase(),
  trim: (s: string) => s.trim(),
  length: codePointLength,
  substr2: (s: string, start: number) => substring(s, start, Infinity),
  substr3: (s: string, start: number, len: number) => (len < 0 ? null : substring(s, start, len)),
  replace: (s: string, from: string, to: string) => (from === '' ? s : s.split(from).join(to)),
  starts_with: (s: string, p: string) => s.startsWith(p),
  ends_with: (s: string, p: string) => s.endsWith(p),
  contains: (s: string, p: string) => s.includes(p),
  matches: (s: string, re: RegExp) => re.test(s),

  abs_num: (x: number) => Math.abs(x),
  abs_dec: absDecimal,
  floor_num: (x: number) => Math.floor(x),
  ceil_num: (x: number) => Math.ceil(x),
  floor_dec: floorDecimal,
  ceil_dec: ceilDecimal,
  round_num: halfAwayFromZero,
  round_num2: (x: number, d: number) => finiteOrNull(Number(roundDecimal(plainText(x), clampPlaces(d)))),
  round_int2: (x: number, d: number) => (d >= 0 ? x : safeOrNull(Number(roundDecimal(String(x), clampPlaces(d))))),
  round_dec: (x: string) => roundDecimal(x, 0),
  round_dec2: (x: string, d: number) => roundDecimal(x, clampPlaces(d)),
  sqrt: (x: number) => (x < 0 ? null : Math.sqrt(x)),
  ln: (x: number) => (x <= 0 ? null : Math.log(x)),
  log10: (x: number) => (x <= 0 ? null : Math.log10(x)),
  exp: (x: number) => finiteOrNull(Math.exp(x)),
  pow: (x: number, y: number) => finiteOrNull(Math.pow(x, y)),

  parse_date(s: string): string | null {
    const days = parseDateDays(s.trim());
    if (!Number.isNaN(days)) return formatDays(days);
    const ms = parseTimestampText(s);
    return Number.isNaN(ms) ? null : tsDate(ms);
  },
  ts_date: tsDate,
  ts_year: (ms: number) => daysYear(tsDays(ms)),
  ts_month: (ms: number) => daysMonth(tsDays(ms)),
  ts_day: (ms: number) => daysDay(tsDays(ms)),
  ts_dow: (ms: number) => daysDow(tsDays(ms)),
  ts_hour: (ms: number) => Math.floor(msOfDay(ms) / 3_600_000),
  ts_minute: (ms: number) => Math.floor(msOfDay(ms) / 60_000) % 60,
  ts_second: (ms: number) => Math.floor(msOfDay(ms) / 1000) % 60,
  date_year: (d: string) => daysYear(dateDays(d)),
  date_month: (d: string) => daysMonth(dateDays(d)),
  date_day: (d: string) => daysDay(dateDays(d)),
  date_dow: (d: string) => daysDow(dateDays(d)),
  date_ms: dateMs,
  zero: () => 0,
  trunc_minute: (ms: number) => truncMs('minute', ms),
  trunc_hour: (ms: number) => truncMs('hour', ms),
  trunc_day: (ms: number) => truncMs('day', ms),
  trunc_week: (ms: number) => truncMs('week', ms),
  trunc_month: (ms: number) => truncMs('month', ms),
  trunc_year: (ms: number) => truncMs('year', ms),

  integer_text: (x: number) => String(x),
  number_text: (x: number) => String(x),
  boolean_text: (x: boolean) => (x ? 'true' : 'false'),
  timestamp_text: formatTimestamp,
  json_text: (x: JsonValue) => JSON.stringify(x),
  dec_num: (x: string) => Number(x),
  parse_number(s: string): number | null {
    const t = s.trim();
    return NUMBER_TEXT.test(t) ? finiteOrNull(Number(t)) : null;
  },
  parse_integer(s: string): number | null {
    const t = s.trim();
    return /^[+-]?\d+$/.test(t) ? safeOrNull(Number(t)) : null;
  },
  num_int: (x: number) => safeOrNull(halfAwayFromZero(x)),
  dec_int: (x: string) => safeOrNull(Number(roundDecimal(x, 0))),
  json_get: (j: JsonValue, path: readonly (string | number)[]) => jsonAt(j, path),
  json_path_text(j: JsonValue, path: readonly (string | number)[]): string | null {
    const v = jsonAt(j, path);
    return v === null ? null : jsonToText(v);
  },
};


export const LIBRARY: Readonly<Record<string, (...args: never[]) => unknown>> = Object.freeze(Object.assign(Object.create(null) as object, library));

export function hasLibraryFunction(name: string): boolean {
  return Object.hasOwn(LIBRARY, name) && /^[a-z0-9_]+$/.test(name);
}
