import { encodeValue, escapeText } from '../core/row-codec.js';
import { isCalendarDay } from '../core/calendar.js';
import { formatTimestamp, LENIENT_TIMESTAMP, parseIsoTimestamp, parseTimestampText } from '../core/timestamp-text.js';
import type { FieldType, Value } from '../core/schema.js';

/**
 * Turns one raw input value (CSV text, or a JSON value from NDJSON) into the typed representation of
 * src/core/schema.ts. Returns INVALID and leaves the reason in `coerceFailure` rather than throwing:
 * invalid values are common input, and exceptions per row would be slow.
 */
export const INVALID = Symbol('invalid');
export let coerceFailure = '';

const INTEGER = /^[-+]?\d{1,16}$/;
const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const DECIMAL = /^([-+]?)(\d*)(?:\.(\d+))?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TRUE = new Set(['true', 't', 'yes', 'y', '1', 'on']);
const FALSE = new Set(['false', 'f', 'no', 'n', '0', 'off']);

function fail(reason: string): typeof INVALID {
  coerceFailure = reason;
  return INVALID;
}

function quote(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return `'${s.length > 60 ? s.slice(0, 57) + '...' : s}'`;
}

function timestampFromText(s: string): number | typeof INVALID {
  const fast = parseIsoTimestamp(s);
  if (fast === fast) return fast;
  if (!LENIENT_TIMESTAMP.test(s)) return fail(`${quote(s)} is not an ISO-8601 timestamp (e.g. 2026-01-31T03:00:00Z)`);
  const t = parseTimestampText(s);
  return t === t ? t : fail(`${quote(s)} is not a valid date/time`);
}

function fromText(type: FieldType, s: string): Value | typeof INVALID {
  switch (type) {
    case 'string':
      return s;
    case 'integer': {
      if (!INTEGER.test(s)) return fail(`${quote(s)} is not an integer`);
      const n = Number(s);
      return Number.isSafeInteger(n) ? n : fail(`${quote(s)} is out of the integer range (±9007199254740991)`);
    }
    case 'number': {
      if (!NUMBER.test(s)) return fail(`${quote(s)} is not a number`);
      const n = Number(s);
      return Number.isFinite(n) ? n : fail(`${quote(s)} is out of range`);
    }
    case 'decimal': {
      const m = DECIMAL.exec(s);
      if (!m || (m[2] === '' && m[3] === undefined)) return fail(`${quote(s)} is not a decimal number`);
      const int = m[2]!.replace(/^0+(?=\d)/, '') || '0';
      return `${m[1] === '-' ? '-' : ''}${int}${m[3] === undefined ? '' : '.' + m[3]}`;
    }
    case 'boolean': {
      const l = s.toLowerCase();
      if (TRUE.has(l)) return true;
      if (FALSE.has(l)) return false;
      return fail(`${quote(s)} is not a boolean (true/false, yes/no, 1/0)`);
    }
    case 'timestamp':
      return timestampFromText(s);
    case 'date': {
      const m = DATE.exec(s);
      if (!m || !isCalendarDay(+m[1]!, +m[2]!, +m[3]!)) return fail(`${quote(s)} is not a date (YYYY-MM-DD)`);
      return s;
    }
    case 'json':
      try {
        return JSON.parse(s) as Value;
      } catch {
        return fail(`${quote(s)} is not valid JSON`);
      }
  }
}

/** Coerces a value; `undefined`, null and empty text are "missing" and handled by the caller. */
export function coerce(type: FieldType, raw: unknown): Value | typeof INVALID {
  if (typeof raw === 'string') return fromText(type, raw);
  switch (type) {
    case 'json':
      return raw as Value;
    case 'string':
      return typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : fail(`expected text, got ${quote(raw)}`);
    case 'integer':
      return typeof raw === 'number' && Number.isSafeInteger(raw) ? raw : fail(`${quote(raw)} is not an integer`);
    case 'number':
      return typeof raw === 'number' ? raw : fail(`${quote(raw)} is not a number`);
    case 'decimal':
      return typeof raw === 'number' && Number.isFinite(raw) ? fromText('decimal', String(raw)) : fail(`${quote(raw)} is not a decimal number`);
    case 'boolean':
      return typeof raw === 'boolean' ? raw : raw === 1 ? true : raw === 0 ? false : fail(`${quote(raw)} is not a boolean`);
    case 'timestamp':
      return typeof raw === 'number' && Number.isFinite(raw) ? raw : fail(`${quote(raw)} is not a timestamp`);
    case 'date':
      return fail(`${quote(raw)} is not a date (YYYY-MM-DD)`);
  }
}

/** `-?(0|[1-9]\d*)` with at most 15 digits: Number() then String() gives back the very same text. */
function canonicalInteger(s: string): boolean {
  const len = s.length;
  let i = s.charCodeAt(0) === 45 ? 1 : 0;
  const digits = len - i;
  if (digits < 1 || digits > 15) return false;
  if (s.charCodeAt(i) === 48) return digits === 1 && i === 0;
  for (; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** `-?(0|[1-9]\d*)(\.\d+)?`: the canonical form of a decimal, so the text is its own value. */
function canonicalDecimal(s: string): boolean {
  const len = s.length;
  let i = s.charCodeAt(0) === 45 ? 1 : 0;
  const start = i;
  while (i < len) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  if (i === start || (s.charCodeAt(start) === 48 && i - start > 1)) return false;
  if (i === len) return true;
  if (s.charCodeAt(i) !== 46 || ++i === len) return false;
  for (; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Coerces non-empty raw text straight to its COPY-text cell: `encodeValue(type, coerce(type, s))`, but
 * text already in canonical form (the usual case) is passed through instead of parsed and re-formatted.
 */
export function cellFromText(type: FieldType, s: string): string | typeof INVALID {
  switch (type) {
    case 'string':
      return escapeText(s);
    case 'integer':
      if (canonicalInteger(s)) return s;
      break;
    case 'decimal':
      if (canonicalDecimal(s)) return s;
      break;
    case 'timestamp': {
      const t = parseIsoTimestamp(s);
      if (t === t) return s.length === 24 && s.charCodeAt(23) === 90 && s.charCodeAt(19) === 46 ? s : formatTimestamp(t);
      break;
    }
  }
  const v = fromText(type, s);
  return v === INVALID ? INVALID : v === null ? '\\N' : encodeValue(type, v);
}
