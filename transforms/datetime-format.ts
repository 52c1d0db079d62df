/**
 * Date/time text → parts, for `parse`: either ISO-8601 or a pattern of tokens (YYYY MM DD HH mm ss SSS Z)
 * and literal text, compiled once into a regular expression. Local times are resolved in an IANA zone.
 */
import { daysInMonth } from '../src/core/calendar.js';

export interface DateTimeParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millis: number;
  /** Minutes east of UTC written in the text, or null when the text has no offset. */
  offset: number | null;
}

/** Fills `parts` from `text`; false when the text does not match or names an impossible date/time. */
export type DateTimeMatcher = (text: string, parts: DateTimeParts) => boolean;

export function newParts(): DateTimeParts {
  return { year: 0, month: 1, day: 1, hour: 0, minute: 0, second: 0, millis: 0, offset: null };
}

const TOKENS: Record<string, { pattern: string; slot: keyof DateTimeParts | 'fraction' }> = {
  YYYY: { pattern: '(\\d{4})', slot: 'year' },
  SSS: { pattern: '(\\d{3})', slot: 'millis' },
  MM: { pattern: '(\\d{2})', slot: 'month' },
  DD: { pattern: '(\\d{2})', slot: 'day' },
  HH: { pattern: '(\\d{2})', slot: 'hour' },
  mm: { pattern: '(\\d{2})', slot: 'minute' },
  ss: { pattern: '(\\d{2})', slot: 'second' },
  Z: { pattern: '(Z|[+-]\\d{2}(?::?\\d{2})?)', slot: 'offset' },
};
const TOKEN_NAMES = ['YYYY', 'SSS', 'MM', 'DD', 'HH', 'mm', 'ss', 'Z'];

function parseOffset(text: string): number {
  if (text === 'Z' || text === 'z') return 0;
  const sign = text[0] === '-' ? -1 : 1;
  const digits = text.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + (digits.length > 2 ? Number(digits.slice(2, 4)) : 0));
}

function valid(p: DateTimeParts): boolean {
  return p.month >= 1 && p.month <= 12 && p.day >= 1 && p.day <= daysInMonth(p.year, p.month) && p.hour <= 23 && p.minute <= 59 && p.second <= 59;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;

function matchIso(text: string, p: DateTimeParts): boolean {
  const m = ISO.exec(text);
  if (m === null) return false;
  p.year = Number(m[1]);
  p.month = Number(m[2]);
  p.day = Number(m[3]);
  p.hour = m[4] === undefined ? 0 : Number(m[4]);
  p.minute = m[5] === undefined ? 0 : Number(m[5]);
  p.second = m[6] === undefined ? 0 : Number(m[6]);
  // Milliseconds are what rows hold: finer fractions are truncated.
  p.millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  p.offset = m[8] === undefined ? null : parseOffset(m[8]);
  return valid(p);
}

/** Compiles `iso` or a token pattern; `fail` builds the error for an unusable pattern. */
export function compileDateTimeFormat(format: string, fail: (message: string) => Error): DateTimeMatcher {
  if (format.toLowerCase() === 'iso') return matchIso;
  let source = '^';
  const slots: (keyof DateTimeParts)[] = [];
  for (let i = 0; i < format.length; ) {
    const token = TOKEN_NAMES.find((t) => format.startsWith(t, i));
    if (token === undefined) {
      source += format[i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      i++;
      continue;
    }
    const spec = TOKENS[token]!;
    if (slots.includes(spec.slot as keyof DateTimeParts)) throw fail(`format '${format}': token ${token} appears twice`);
    slots.push(spec.slot as keyof DateTimeParts);
    source += spec.pattern;
    i += token.length;
  }
  if (!slots.includes('year') || !slots.includes('month') || !slots.includes('day')) throw fail(`format '${format}' needs YYYY, MM and DD (tokens: YYYY MM DD HH mm ss SSS Z, or 'iso')`);
  const re = new RegExp(`${source}$`);
  const n = slots.length;
  return (text, p) => {
    const m = re.exec(text);
    if (m === null) return false;
    p.hour = 0;
    p.minute = 0;
    p.second = 0;
    p.millis = 0;
    p.offset = null;
    for (let i = 0; i < n; i++) {
      const slot = slots[i]!;
      const g = m[i + 1]!;
      if (slot === 'offset') p.offset = parseOffset(g);
      else p[slot] = Number(g);
    }
    return valid(p);
  };
}

function utcMillis(p: DateTimeParts): number {
  const ms = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, p.millis);
  if (p.year >= 100) return ms;
  // Date.UTC maps years 0–99 to 1900–1999.
  const d = new Date(ms);
  d.setUTCFullYear(p.year);
  return d.getTime();
}

/** Throws RangeError for an unknown IANA zone. */
export function assertTimeZone(timeZone: string): void {
  new Intl.DateTimeFormat('en-US', { timeZone });
}

/** Local wall-clock parts in a zone → epoch milliseconds; offsets are cached per UTC hour. */
export function zonedToEpoch(timeZone: string): (p: DateTimeParts) => number {
  const upper = timeZone.toUpperCase();
  if (upper === 'UTC' || upper === 'ETC/UTC' || upper === 'GMT') {
    return (p) => utcMillis(p) - (p.offset ?? 0) * 60_000;
  }
  const dtf = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  });
  const cache = new Map<number, number>();
  const offsetAt = (utc: number): number => {
    const hour = Math.floor(utc / 3_600_000);
    let offset = cache.get(hour);
    if (offset === undefined) {
      const at = hour * 3_600_000;
      const f: Record<string, number> = {};
      for (const part of dtf.formatToParts(at)) if (part.type !== 'literal') f[part.type] = Number(part.value);
      offset = (Date.UTC(f.year!, f.month! - 1, f.day!, f.hour!, f.minute!, f.second!) - at) / 60_000;
      if (cache.size > 100_000) cache.clear();
      cache.set(hour, offset);
    }
    return offset;
  };
  return (p) => {
    const local = utcMillis(p);
    if (p.offset !== null) return local - p.offset * 60_000;
    const first = offsetAt(local);
    const utc = local - first * 60_000;
    const second = offsetAt(utc);
    return second === first ? utc : local - second * 60_000;
  };
}

export function formatDateParts(p: DateTimeParts): string {
  const y = p.year < 1000 ? String(p.year).padStart(4, '0') : String(p.year);
  return `${y}-${p.month < 10 ? '0' : ''}${p.month}-${p.day < 10 ? '0' : ''}${p.day}`;
}
