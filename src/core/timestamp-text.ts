/**
 * ISO-8601 timestamps as text, in both directions, without Date.parse or toISOString on the hot path:
 * millions of rows per stage make those two calls a visible share of a stage's time.
 */
import { daysFromCivil, daysInMonth, MS_PER_DAY } from './calendar.js';

/** Time-clip bound of ECMAScript dates: beyond it toISOString throws, as it should here too. */
const MAX_TIME = 8.64e15;


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
  if (d > daysInMonth(y, mo)) return NaN;
  const day = daysFromCivil(y, mo, d) * MS_PER_DAY;
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

/** ISO-8601 as people write it: date only, space or T, any fraction, Z or ±HH[:MM] (none = UTC). */
export const LENIENT_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * Epoch ms of an ISO-8601-like text ('2026-01-01', '2026-01-01 10:00', '2026-01-01T10:00:00.5+02:00'),
 * or NaN when it has another shape or names a time that does not exist. Used where text is not in the
 * canonical form `parseIsoTimestamp` reads fast (adapt input, expression literals).
 */
export function parseTimestampText(text: string): number {
  const m = LENIENT_TIMESTAMP.exec(text.trim());
  if (!m) return NaN;
  const y = Number(m[1]), mo = Number(m[2]), d = Number(m[3]);
  const h = Number(m[4] ?? 0), mi = Number(m[5] ?? 0), s = Number(m[6] ?? 0);
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return NaN;
  let offsetMin = 0;
  const zone = m[8];
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2)), om = Number(digits.slice(2) || '0');
    if (oh > 23 || om > 59) return NaN;
    offsetMin = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return daysFromCivil(y, mo, d) * MS_PER_DAY + ((h * 60 + mi - offsetMin) * 60 + s) * 1000 + ms;
}
