/**
 * Exact operations on decimal values (strings like '-12.340'): comparing and rounding them through a
 * double would silently change values that the decimal type exists to keep exact.
 */
interface Parts {
  negative: boolean;
  int: string;
  frac: string;
}

function split(value: string): Parts {
  const negative = value.charCodeAt(0) === 45;
  const body = negative ? value.slice(1) : value;
  const dot = body.indexOf('.');
  let int = dot < 0 ? body : body.slice(0, dot);
  let frac = dot < 0 ? '' : body.slice(dot + 1);
  let i = 0;
  while (i < int.length - 1 && int.charCodeAt(i) === 48) i++;
  int = int.slice(i);
  let j = frac.length;
  while (j > 0 && frac.charCodeAt(j - 1) === 48) j--;
  frac = frac.slice(0, j);
  return { negative: negative && !(int === '0' && frac === ''), int, frac };
}

function join(negative: boolean, int: string, frac: string): string {
  let i = 0;
  while (i < int.length - 1 && int.charCodeAt(i) === 48) i++;
  int = int.slice(i) || '0';
  const zero = int === '0' && /^0*$/.test(frac);
  return `${negative && !zero ? '-' : ''}${int}${frac === '' ? '' : `.${frac}`}`;
}

function compareMagnitude(a: Parts, b: Parts): number {
  if (a.int.length !== b.int.length) return a.int.length < b.int.length ? -1 : 1;
  if (a.int !== b.int) return a.int < b.int ? -1 : 1;
  if (a.frac === b.frac) return 0;
  return a.frac < b.frac ? -1 : 1;
}

/** -1, 0 or 1; '1.50' equals '1.5'. */
export function compareDecimal(a: string, b: string): number {
  if (a === b) return 0;
  const pa = split(a), pb = split(b);
  if (pa.negative !== pb.negative) return pa.negative ? -1 : 1;
  const m = compareMagnitude(pa, pb);
  return pa.negative ? -m : m;
}

/** Adds one unit in the last place of a string of digits. */
function incrementDigits(digits: string): string {
  const chars = digits.split('');
  let i = chars.length - 1;
  while (i >= 0 && chars[i] === '9') chars[i--] = '0';
  if (i < 0) return `1${chars.join('')}`;
  chars[i] = String.fromCharCode(chars[i]!.charCodeAt(0) + 1);
  return chars.join('');
}

/**
 * Rounds half away from zero to `places` fraction digits (negative: to tens, hundreds…), keeping exactly
 * `max(places, 0)` fraction digits like PostgreSQL's round(numeric, int).
 */
export function roundDecimal(value: string, places: number): string {
  const p = split(value);
  const digits = p.int + p.frac;
  const keep = p.int.length + places;
  let kept: string;
  let intLen = p.int.length;
  if (keep < 0) {
    kept = '';
  } else if (keep >= digits.length) {
    kept = digits + '0'.repeat(keep - digits.length);
  } else {
    kept = digits.slice(0, keep);
    if (digits.charCodeAt(keep) >= 53) {
      const bumped = incrementDigits(kept === '' ? '0' : kept);
      if (bumped.length > Math.max(kept.length, 1) || kept === '') intLen += bumped.length - kept.length;
      kept = bumped;
    }
  }
  if (places >= 0) return join(p.negative, kept.slice(0, intLen) || '0', kept.slice(intLen).padEnd(places, '0'));
  return join(p.negative, (kept || '0') + '0'.repeat(Math.max(0, intLen - kept.length)), '');
}

function truncate(p: Parts): string {
  return p.int;
}

export function floorDecimal(value: string): string {
  const p = split(value);
  if (p.frac === '' || !p.negative) return join(p.negative, truncate(p), '');
  return join(true, incrementDigits(p.int), '');
}

export function ceilDecimal(value: string): string {
  const p = split(value);
  if (p.frac === '' || p.negative) return join(p.negative, truncate(p), '');
  return join(false, incrementDigits(p.int), '');
}

export function absDecimal(value: string): string {
  return value.charCodeAt(0) === 45 ? value.slice(1) : value;
}
