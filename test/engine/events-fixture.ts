import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../support/random.js';

/**
 * A deterministic event export for engine tests: `rows` good rows plus the bad ones asked for
 * (each a real kind of breakage: text in an integer, an impossible time, a short row).
 */
export function writeEvents(dir: string, name: string, options: { rows: number; start?: number; bad?: number }): { path: string; good: number; bad: number } {
  const start = options.start ?? 1;
  const random = seededRandom(42 + start);
  const rand = (n: number) => Math.floor(random() * n);
  const countries = ['ES', 'FR', 'DE', '', 'US'];
  const lines = ['event_id,time,site_id,country,page,views,clicks'];
  for (let i = 0; i < options.rows; i++) {
    const views = rand(20);
    lines.push(`${start + i},2026-01-0${1 + rand(3)}T${String(rand(24)).padStart(2, '0')}:${String(rand(60)).padStart(2, '0')}:00Z,${1 + rand(6)},${countries[rand(5)]},"/p/${rand(9)}, ""x""",${views},${views === 0 ? 0 : rand(views + 1)}`);
  }
  const bad = options.bad ?? 0;
  const kinds = [
    (id: number) => `${id},2026-01-01T00:00:00Z,1,ES,/,twelve,1`,
    (id: number) => `${id},2026-01-01T25:61:00Z,1,ES,/,3,1`,
    (id: number) => `${id},2026-01-01T00:00:00Z,1`,
  ];
  for (let b = 0; b < bad; b++) lines.push(kinds[b % kinds.length]!(start + options.rows + b));
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n') + '\n');
  return { path, good: options.rows, bad };
}

/** The job most engine tests run: the README example, loading into PostgreSQL. */
export function siteStatsJob(options: { mode?: 'append' | 'replace' | 'upsert'; table?: string; maxRejectRatio?: number; extra?: string; path?: string; transform?: string } = {}): string {
  const mode = options.mode ?? 'upsert';
  return `job: site-stats
buffer: file://.datamill/buffer
retries: { attempts: 3, backoff: 100ms }
${options.extra ?? ''}
extract:
  from: csv
  path: ${options.path ?? 'events-*.csv'}
adapt:
  fields:
    event_id: { type: integer, required: true }
    ts: { type: timestamp, from: time }
    site_id: integer
    country: { type: string, default: "ZZ" }
    views: integer
    clicks: integer
  max_reject_ratio: ${options.maxRejectRatio ?? 0.05}
transform:
${options.transform ?? `  - filter: "views > 0"
  - derive: { day: "date(ts)" }
  - group: { by: [day, site_id], sum: [views, clicks], count: events }`}
load:
  to: postgres
  connection: "\${env:WAREHOUSE_URL}"
  table: ${options.table ?? 'analytics.site_stats'}
  mode: ${mode}
${mode === 'upsert' ? '  key: [day, site_id]' : ''}
`;
}
