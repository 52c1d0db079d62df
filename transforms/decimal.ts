/**
 * Exact decimal arithmetic on the canonical decimal strings rows carry (/^-?\d+(\.\d+)?$/): a decimal is
 * an unscaled BigInt and a scale, so sums never pass through a double.
 */
export interface ScaledDecimal {
  unscaled: bigint;
  scale: number;
}

const POW10: bigint[] = [1n];
export function pow10(n: number): bigint {
  while (POW10.length <= n) POW10.push(POW10[POW10.length - 1]! * 10n);
  return POW10[n]!;
}

export function decimalScale(s: string): number {
  const dot = s.indexOf('.');
  return dot === -1 ? 0 : s.length - dot - 1;
}

/** The unscaled integer of a canonical decimal string, at its own scale. */
export function decimalUnscaled(s: string): bigint {
  const dot = s.indexOf('.');
  return BigInt(dot === -1 ? s : s.slice(0, dot) + s.slice(dot + 1));
}

export function formatDecimal(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  let digits = (negative ? -unscaled : unscaled).toString();
  if (scale > 0) {
    if (digits.length <= scale) digits = '0'.repeat(scale - digits.length + 1) + digits;
    digits = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  }
  return negative ? `-${digits}` : digits;
}

/** Adds a canonical decimal string into an accumulator, widening its scale when needed (like SQL's sum). */
export function addDecimal(acc: ScaledDecimal, s: string): void {
  const scale = decimalScale(s);
  let v = decimalUnscaled(s);
  if (scale > acc.scale) {
    acc.unscaled *= pow10(scale - acc.scale);
    acc.scale = scale;
  } else if (scale < acc.scale) {
    v *= pow10(acc.scale - scale);
  }
  acc.unscaled += v;
}

/** Numeric order of two canonical decimal strings. */
export function compareDecimal(a: string, b: string): number {
  const sa = decimalScale(a);
  const sb = decimalScale(b);
  const scale = Math.max(sa, sb);
  const va = decimalUnscaled(a) * pow10(scale - sa);
  const vb = decimalUnscaled(b) * pow10(scale - sb);
  return va < vb ? -1 : va > vb ? 1 : 0;
}

/** Integer division rounded half away from zero (SQL's round()). */
export function divideRounded(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const q = (2n * n + d) / (2n * d);
  return negative ? -q : q;
}

const DECIMAL_TEXT = /^[+-]?(\d+)(?:\.(\d+))?$/;

/** Canonical form of a decimal written by a person ("+001.50" → "1.50"), or null when it is not one. */
export function canonicalDecimal(text: string): string | null {
  const m = DECIMAL_TEXT.exec(text);
  if (!m) return null;
  const intPart = m[1]!.replace(/^0+(?=\d)/, '');
  const frac = m[2];
  const body = frac === undefined ? intPart : `${intPart}.${frac}`;
  const negative = text.startsWith('-') && /[1-9]/.test(body);
  return negative ? `-${body}` : body;
}
