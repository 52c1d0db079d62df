import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

import { seededRandom } from '../test/support/random.js';

export { seededRandom };

const COUNTRIES = ['US', 'DE', 'FR', 'ES', 'GB', 'IT', 'NL', 'BR', 'IN', 'JP', 'CA', 'MX', 'PL', 'SE', 'AU', 'ZZ'];
const PATHS = ['/', '/pricing', '/blog/how-we-scaled-our-etl', '/docs/getting-started', '/products/widget-pro', '/about/team', '/checkout/cart', '/search'];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari/605.1',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0 (compatible)',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148',
];
// Agents that need quoting: commas inside, and one with an embedded quote (doubled in the file).
const QUOTED_AGENTS = [
  '"Mozilla/5.0 (Linux, Android 14, Pixel 8) AppleWebKit/537.36 Chrome/124.0 Mobile Safari"',
  '"curl/8.5.0, via ""proxy-7"", retry=2, region=eu-west-1, pool=batch-ingest-workers"',
];
export const TRAFFIC_HEADER = 'event_id,ts,site_id,user_id,country,url,views,clicks,revenue,user_agent';
const HEX = '0123456789abcdef';
const START_MS = Date.UTC(2026, 0, 1);

function uuid(rnd: () => number): string {
  let s = '';
  for (let i = 0; i < 32; i++) {
    if (i === 8 || i === 12 || i === 16 || i === 20) s += '-';
    s += HEX[(rnd() * 16) | 0];
  }
  return s;
}

function row(i: number, rnd: () => number): string {
  const ts = new Date(START_MS + i * 997 + ((rnd() * 1000) | 0)).toISOString();
  const site = 1 + ((rnd() * 500) | 0);
  const country = COUNTRIES[(rnd() * COUNTRIES.length) | 0];
  const url = `https://site${site}.example.com${PATHS[(rnd() * PATHS.length) | 0]}`;
  const views = 1 + ((rnd() * 50) | 0);
  const clicks = (rnd() * views) | 0;
  const revenue = (rnd() * 200).toFixed(2);
  const agent = rnd() < 0.01 ? QUOTED_AGENTS[(rnd() * QUOTED_AGENTS.length) | 0] : AGENTS[(rnd() * AGENTS.length) | 0];
  return `${i + 1},${ts},${site},${uuid(rnd)},${country},${url},${views},${clicks},${revenue},${agent}\n`;
}

/**
 * Writes a deterministic web-traffic CSV (header + `rows` rows, ~215 bytes each, ~1% quoted user agents
 * with commas) to `path`, streaming so memory stays flat for any size.
 */
export async function writeTrafficCsv(path: string, rows: number): Promise<{ bytes: number }> {
  const rnd = seededRandom(20260101);
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  let bytes = 0;
  let chunk = `${TRAFFIC_HEADER}\n`;
  for (let i = 0; i < rows; i++) {
    chunk += row(i, rnd);
    if (chunk.length >= 1 << 20 || i === rows - 1) {
      bytes += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  if (chunk.length > 0) {
    bytes += Buffer.byteLength(chunk);
    out.write(chunk);
  }
  out.end();
  await once(out, 'close');
  return { bytes };
}
