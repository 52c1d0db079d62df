/**
 * Proleptic Gregorian calendar arithmetic, in UTC, shared by the row codec, adapt, the expression
 * language and the parse transform. No `Date` objects: no allocation per row, and no `Date.UTC` quirk
 * that maps years 0–99 to 1900–1999.
 */
export const MS_PER_DAY = 86_400_000;

/** Days since 1970-01-01 of a date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  if (m <= 2) y--;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

export function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** True for a real calendar day (month 1–12, day within the month). */
export function isCalendarDay(y: number, m: number, d: number): boolean {
  return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}
