import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { TestDatabase } from '../support/database.js';

/** The rows the job must produce, computed independently by PostgreSQL from the raw CSV text. */
export async function expectedSiteStats(db: TestDatabase, files: string[]): Promise<Array<Record<string, string>>> {
  await db.query('CREATE TABLE raw_events (event_id text, time text, site_id text, country text, page text, views text, clicks text)');
  for (const file of files) {
    const raw = readFileSync(file);
    const lines = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      const cells = line.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((c) => c.replace(/,$/, ''));
      if (cells.length < 7 || !/^\d+$/.test(cells[5]!) || !/T([01]\d|2[0-3]):[0-5]\d/.test(cells[1]!)) continue;
      await db.query('INSERT INTO raw_events VALUES ($1,$2,$3,$4,$5,$6,$7)', cells.slice(0, 7));
    }
  }
  return db.query(`SELECT (time::timestamptz AT TIME ZONE 'UTC')::date::text AS day, site_id::bigint::text AS site_id,
      sum(views::bigint)::text AS views, sum(clicks::bigint)::text AS clicks, count(*)::text AS events
    FROM raw_events WHERE views::bigint > 0 GROUP BY 1, 2 ORDER BY 1, 2`);
}

