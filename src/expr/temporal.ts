/**
 * Calendar arithmetic on the in-memory representations (timestamp = epoch ms, date = 'YYYY-MM-DD'), in UTC.
 * Hand-written civil-date conversions (H. Hinnant's algorithms) instead of `Date` objects: no allocation
 * per row, and no `Date.UTC` quirk that maps years 0–99 to 1900–1999.
 */
import { daysFromCivil, daysInMonth, MS_PER_DAY } from '../core/calendar.js';

/** Scratch for civil(): year, month, day of the last conversion (avoids allocating a tuple per row). */
const civilOut = new Int32Array(3);

function civil(days: number): Int32Array {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  civilOut[0] = yoe + era * 400 + (m <= 2 ? 1 : 0);
  civilOut[1] = m;
  civilOut[2] = d;
  return civilOut;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function formatYear(y: number): string {
  return y >= 0 && y < 10000 ? String(y).padStart(4, '0') : String(y);
}

export function formatDays(days: number): string {
  const c = civil(days);
  return `${formatYear(c[0]!)}-${pad2(c[1]!)}-${pad2(c[2]!)}`;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since the epoch of a 'YYYY-MM-DD' text, or NaN when it is not a real calendar date. */
export function parseDateDays(text: string): number {
  const m = DATE_RE.exec(text);
  if (!m) return NaN;
  const y = Number(m[1]), mo = Number(m[2]), d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return NaN;
  return daysFromCivil(y, mo, d);
}

/** Days since the epoch of a stored date; stored dates are valid 'YYYY-MM-DD', so read the digits directly. */
export function dateDays(date: string): number {
  if (date.length !== 10) return parseDateDays(date);
  const y = (date.charCodeAt(0) - 48) * 1000 + (date.charCodeAt(1) - 48) * 100 + (date.charCodeAt(2) - 48) * 10 + (date.charCodeAt(3) - 48);
  const m = (date.charCodeAt(5) - 48) * 10 + (date.charCodeAt(6) - 48);
  const d = (date.charCodeAt(8) - 48) * 10 + (date.charCodeAt(9) - 48);
  return daysFromCivil(y, m, d);
}

export function dateMs(date: string): number {
  return dateDays(date) * MS_PER_DAY;
}

export function tsDays(ms: number): number {
  return Math.floor(ms / MS_PER_DAY);
}

export function tsDate(ms: number): string {
  return formatDays(tsDays(ms));
}

export function daysYear(days: number): number {
  return civil(days)[0]!;
}
export function daysMonth(days: number): number {
  return civil(days)[1]!;
}
export function daysDay(days: number): number {
  return civil(days)[2]!;
}
/** 0 = Sunday … 6 = Saturday, like PostgreSQL's `dow`; 1970-01-01 was a Thursday. */
export function daysDow(days: number): number {
  return (((days + 4) % 7) + 7) % 7;
}

/** Milliseconds into the UTC day, always 0 ≤ x < 86 400 000 (also before 1970). */
export function msOfDay(ms: number): number {
  return ms - Math.floor(ms / MS_PER_DAY) * MS_PER_DAY;
}

export const TRUNC_UNITS = ['minute', 'hour', 'day', 'week', 'month', 'year'] as const;
export type TruncUnit = (typeof TRUNC_UNITS)[number];

export function truncMs(unit: TruncUnit, ms: number): number {
  switch (unit) {
    case 'minute': return Math.floor(ms / 60_000) * 60_000;
    case 'hour': return Math.floor(ms / 3_600_000) * 3_600_000;
    case 'day': return tsDays(ms) * MS_PER_DAY;
    case 'week': {
      // ISO weeks start on Monday, as PostgreSQL's date_trunc('week', …) does.
      const days = tsDays(ms);
      return (days - ((daysDow(days) + 6) % 7)) * MS_PER_DAY;
    }
    case 'month': {
      const c = civil(tsDays(ms));
      return daysFromCivil(c[0]!, c[1]!, 1) * MS_PER_DAY;
    }
    case 'year': return daysFromCivil(civil(tsDays(ms))[0]!, 1, 1) * MS_PER_DAY;
  }
}
