/**
 * Durations ("30s", "10m", "1h30m", "500ms", or a number of seconds) and sizes ("512Mi", "1G", "64MB",
 * or a number of bytes), parsed once at the boundary into milliseconds and bytes.
 */
const DURATION_PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/gy;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(input: string | number): number | null {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? input * 1000 : null;
  const text = input.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  DURATION_PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = DURATION_PART.exec(text)) !== null) {
    total += Number(m[1]) * DURATION_MS[m[2]!]!;
    consumed = DURATION_PART.lastIndex;
  }
  return consumed === text.length && consumed > 0 ? Math.round(total) : null;
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(|b|k|kb|ki|kib|m|mb|mi|mib|g|gb|gi|gib|t|tb|ti|tib)$/i;
const SIZE_FACTOR: Record<string, number> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, ki: 1024, kib: 1024,
  m: 1e6, mb: 1e6, mi: 1024 ** 2, mib: 1024 ** 2,
  g: 1e9, gb: 1e9, gi: 1024 ** 3, gib: 1024 ** 3,
  t: 1e12, tb: 1e12, ti: 1024 ** 4, tib: 1024 ** 4,
};

export function parseSize(input: string | number): number | null {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? Math.round(input) : null;
  const m = SIZE.exec(input.trim());
  return m ? Math.round(Number(m[1]) * SIZE_FACTOR[m[2]!.toLowerCase()]!) : null;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return m < 60 ? `${m}m${s}s` : `${Math.floor(m / 60)}h${m % 60}m`;
}
