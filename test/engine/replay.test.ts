import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabase } from '../support/database.js';
import { datamill, workspace } from '../support/cli.js';
import { siteStatsJob, writeEvents } from './events-fixture.js';

test('replaying a run from transform or load re-runs those stages on the buffered input and never duplicates rows', async (t) => {
  const db = await testDatabase();
  t.after(() => db.drop());
  const ws = workspace();
  writeEvents(ws.dir, 'events-1.csv', { rows: 800 });
  const job = ws.write('job.yaml', siteStatsJob({ mode: 'append' }));
  const env = { WAREHOUSE_URL: db.url, DATAMILL_HOME: ws.home };
  const first = await datamill(['run', job], { env, cwd: ws.dir });
  assert.equal(first.code, 0, first.stderr);
  const id = /run (\S+) succeeded/.exec(first.stdout)![1]!;
  const before = await db.query('SELECT * FROM analytics.site_stats ORDER BY day, site_id');

  // Even with the source file gone, replay works from what the run buffered.
  ws.write('events-1.csv', 'event_id,time\n');
  const fromTransform = await datamill(['replay', id.slice(0, 18), '--stage', 'transform'], { env, cwd: ws.dir });
  assert.equal(fromTransform.code, 0, fromTransform.stderr);
  const fromLoad = await datamill(['replay', id, '--stage', 'load'], { env, cwd: ws.dir });
  assert.equal(fromLoad.code, 0, fromLoad.stderr);
  assert.deepEqual(await db.query('SELECT * FROM analytics.site_stats ORDER BY day, site_id'), before, 'an append replayed twice adds nothing');

  const show = JSON.parse((await datamill(['show', id, '--json'], { env, cwd: ws.dir })).stdout) as { trigger: string; attempts: Array<{ stage: string; attempt: number; status: string }> };
  assert.deepEqual(show.attempts.map((a) => `${a.stage}#${a.attempt}`), ['extract#1', 'adapt#1', 'transform#1', 'load#1', 'transform#2', 'load#2', 'load#3']);
  assert.ok(show.attempts.every((a) => a.status === 'succeeded'));
  const logs = (await datamill(['logs', id, '--stage', 'load'], { env, cwd: ws.dir })).stdout;
  assert.match(logs, /already/i);
});

test('replaying from a stage the job does not have is refused', async () => {
  const ws = workspace();
  writeEvents(ws.dir, 'events-1.csv', { rows: 10 });
  const job = ws.write('job.yaml', siteStatsJob({ mode: 'append' }).replace(/transform:[\s\S]*?load:/, 'load:'));
  await datamill(['run', job], { env: { DATAMILL_HOME: ws.home, WAREHOUSE_URL: 'postgres://127.0.0.1:1/x' }, cwd: ws.dir });
  const [run] = JSON.parse((await datamill(['runs', '--json'], { env: { DATAMILL_HOME: ws.home }, cwd: ws.dir })).stdout) as Array<{ id: string }>;
  const r = await datamill(['replay', run!.id, '--stage', 'transform'], { env: { DATAMILL_HOME: ws.home }, cwd: ws.dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /has no transform stage \(its stages: extract, adapt, load\)/);
});
