import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testDatabase } from '../support/database.js';
import { datamill, workspace } from '../support/cli.js';
import { repoRoot } from '../support/paths.js';
import { expectedSiteStats } from './site-stats-sql.js';

const examples = join(repoRoot(), 'jobs/examples');
const samples = ['data/events-2026-01-01.csv', 'data/events-2026-01-02.csv.gz'].map((f) => join(examples, f));

test('the README example pointed at PostgreSQL loads what SQL computes from the sample files', async (t) => {
  const db = await testDatabase();
  t.after(() => db.drop());
  const ws = workspace();
  const env = { WAREHOUSE_URL: db.url, DATAMILL_HOME: ws.home };
  const r = await datamill(['run', join(examples, 'site-stats-postgres.yaml')], { env, cwd: ws.dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /600 rows extracted, 2 rejected, \d+ loaded into postgres analytics\.site_stats/);
  const expected = await expectedSiteStats(db, samples);
  const got = await db.query(`SELECT day::text, site_id::text, views::text, clicks::text, events::text FROM analytics.site_stats ORDER BY 1, 2`);
  assert.deepEqual(got, expected);
  const ctr = await db.query<{ bad: string }>(`SELECT count(*)::text AS bad FROM analytics.site_stats WHERE ctr IS DISTINCT FROM round(clicks::numeric / nullif(views, 0), 4)::float8`);
  assert.equal(ctr[0]!.bad, '0');
});

test('the README demo job writes its result file with the same rows', async () => {
  const ws = workspace();
  const r = await datamill(['run', join(examples, 'site-stats.yaml')], { env: { DATAMILL_HOME: ws.home }, cwd: ws.dir });
  assert.equal(r.code, 0, r.stderr);
  const out = readFileSync(join(repoRoot(), 'out/site-stats.csv'), 'utf8').trim().split('\n');
  assert.equal(out[0], 'day,site_id,events,views,clicks,ctr');
  assert.ok(out.length > 5);
  assert.match(r.stdout, /loaded into file .*out\/site-stats\.csv/);
  const id = /run (\S+) succeeded/.exec(r.stdout)![1]!;
  const logs = (await datamill(['logs', id, '--json'], { env: { DATAMILL_HOME: ws.home }, cwd: ws.dir })).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(logs.every((e) => e.job === 'site-stats' && e.run === id && ['fatal', 'error', 'warn', 'info', 'debug'].includes(e.level as string) && typeof e.timestamp === 'string'));
  const fromStages = logs.filter((e) => e.message === 'adapt finished');
  assert.equal(fromStages.length, 1, "the stage process's own lines are in the run log");
  assert.deepEqual([fromStages[0]!.stage, fromStages[0]!.attempt, fromStages[0]!.rows_rejected], ['adapt', 1, 2]);
});
