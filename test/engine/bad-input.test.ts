import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { testDatabase } from '../support/database.js';
import { datamill, workspace } from '../support/cli.js';
import { siteStatsJob, writeEvents } from './events-fixture.js';

async function lastRun(home: string, cwd: string) {
  const runs = JSON.parse((await datamill(['runs', '--json'], { env: { DATAMILL_HOME: home }, cwd })).stdout) as Array<{ id: string; status: string; error: { stage: string; name: string; message: string } | null }>;
  return runs[0]!;
}

test('a missing input file fails extract with the path, a non-zero exit and the reason recorded', async () => {
  const ws = workspace();
  const job = ws.write('job.yaml', siteStatsJob({ path: 'nope/events.csv' }));
  const r = await datamill(['run', job], { env: { DATAMILL_HOME: ws.home, WAREHOUSE_URL: 'postgres://127.0.0.1:1/x' }, cwd: ws.dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /extract: no such file: nope\/events\.csv/);
  const run = await lastRun(ws.home, ws.dir);
  assert.deepEqual([run.status, run.error!.stage, run.error!.name], ['failed', 'extract', 'SourceError']);
});

test('a corrupt gzip file fails the run naming the file, without retrying', async () => {
  const ws = workspace();
  const gz = gzipSync(readFileSync(writeEvents(ws.dir, 'plain.csv', { rows: 2000 }).path));
  writeFileSync(join(ws.dir, 'events-1.csv.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
  const job = ws.write('job.yaml', siteStatsJob({ path: 'events-1.csv.gz' }));
  const r = await datamill(['run', job], { env: { DATAMILL_HOME: ws.home, WAREHOUSE_URL: 'postgres://127.0.0.1:1/x' }, cwd: ws.dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /events-1\.csv\.gz/);
  const show = JSON.parse((await datamill(['show', (await lastRun(ws.home, ws.dir)).id, '--json'], { env: { DATAMILL_HOME: ws.home }, cwd: ws.dir })).stdout) as { attempts: unknown[] };
  assert.equal(show.attempts.length, 1, 'a corrupt file is not worth a retry');
});

test('an unknown transform or a broken expression stops `run` before any stage starts, with the line', async () => {
  const ws = workspace();
  writeEvents(ws.dir, 'events-1.csv', { rows: 10 });
  const unknown = ws.write('a.yaml', siteStatsJob({ transform: '  - fliter: "views > 0"' }));
  const r1 = await datamill(['run', unknown], { env: { DATAMILL_HOME: ws.home }, cwd: ws.dir });
  assert.equal(r1.code, 2);
  assert.match(r1.stderr, /a\.yaml:\d+:\d+: transform\[0\]\.fliter: unknown transform 'fliter'; did you mean 'filter'\?/);
  const broken = ws.write('b.yaml', siteStatsJob({ transform: '  - filter: "views > > 0"' }));
  const r2 = await datamill(['run', broken], { env: { DATAMILL_HOME: ws.home }, cwd: ws.dir });
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /b\.yaml:\d+:\d+: transform\[0\]\.filter: .*column \d+/);
  assert.equal((await datamill(['runs', '--json'], { env: { DATAMILL_HOME: ws.home }, cwd: ws.dir })).stdout.trim(), '[]', 'no run was started');
});

test('a job that needs a feature not built yet fails clearly instead of ignoring it', async () => {
  const ws = workspace();
  writeEvents(ws.dir, 'events-1.csv', { rows: 10 });
  // The design names an s3 sink this version does not build: the job validates, the run refuses it.
  const text = siteStatsJob().replace(/load:\n[\s\S]*$/, 'load:\n  to: s3\n  path: s3://bucket/out/\n');
  const job = ws.write('job.yaml', text);
  const r = await datamill(['run', job], { env: { DATAMILL_HOME: ws.home }, cwd: ws.dir });
  assert.equal(r.code, 3);
  assert.match(r.stderr, /s3.*not supported yet/);
  const [run] = JSON.parse((await datamill(['runs', '--json'], { env: { DATAMILL_HOME: ws.home }, cwd: ws.dir })).stdout) as Array<{ id: string; status: string; error: { name: string; stage: string | null } }>;
  assert.deepEqual([run!.status, run!.error.name, run!.error.stage], ['failed', 'NotSupportedError', null], 'the run is recorded as refused before any stage');
  const shown = JSON.parse((await datamill(['show', run!.id, '--json'], { env: { DATAMILL_HOME: ws.home }, cwd: ws.dir })).stdout) as { attempts: unknown[] };
  assert.deepEqual(shown.attempts, [], 'no stage started');
});

test('a value the target column cannot take fails the load and leaves the table as it was', async (t) => {
  const db = await testDatabase();
  t.after(() => db.drop());
  const ws = workspace();
  writeEvents(ws.dir, 'events-1.csv', { rows: 300 });
  await db.query('CREATE SCHEMA analytics');
  await db.query('CREATE TABLE analytics.site_stats (day date, site_id bigint, events bigint, views smallint CHECK (views < 50), clicks bigint)');
  await db.query("INSERT INTO analytics.site_stats VALUES ('2000-01-01', 1, 1, 1, 1)");
  const job = ws.write('job.yaml', siteStatsJob({ mode: 'append' }));
  const r = await datamill(['run', job], { env: { DATAMILL_HOME: ws.home, WAREHOUSE_URL: db.url }, cwd: ws.dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /load: .*(check constraint|site_stats)/i);
  assert.deepEqual(await db.query('SELECT day::text FROM analytics.site_stats'), [{ day: '2000-01-01' }], 'nothing half-loaded');
});

test('a stage over its timeout is killed, retried as configured, and the run fails saying so', async () => {
  const ws = workspace();
  writeEvents(ws.dir, 'events-1.csv', { rows: 10 });
  const job = ws.write('job.yaml', siteStatsJob({ extra: 'timeout: 50ms' }).replace(/^retries:.*$/m, 'retries: { attempts: 2, backoff: 10ms }'));
  const r = await datamill(['run', job], { env: { DATAMILL_HOME: ws.home, WAREHOUSE_URL: 'postgres://127.0.0.1:1/x' }, cwd: ws.dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /extract: extract timed out after 50 ms/);
  const show = JSON.parse((await datamill(['show', (await lastRun(ws.home, ws.dir)).id, '--json'], { env: { DATAMILL_HOME: ws.home }, cwd: ws.dir })).stdout) as { attempts: Array<{ stage: string; error: { name: string } }> };
  assert.deepEqual(show.attempts.map((a) => `${a.stage}:${a.error.name}`), ['extract:TimeoutError', 'extract:TimeoutError']);
});

test('a pre-started stage process that dies while waiting is replaced without using up an attempt', async (t) => {
  const db = await testDatabase();
  t.after(() => db.drop());
  const ws = workspace();
  // Enough rows that adapt outlasts the held transform's start-up, so it dies before it is needed.
  writeEvents(ws.dir, 'events-1.csv', { rows: 400_000 });
  const job = ws.write('job.yaml', siteStatsJob({ mode: 'append' }).replace(/^retries:.*$/m, 'retries: { attempts: 1 }'));
  const r = await datamill(['run', job], { env: { DATAMILL_HOME: ws.home, WAREHOUSE_URL: db.url, DATAMILL_FAULT: 'transform:held:1' }, cwd: ws.dir });
  assert.equal(r.code, 0, r.stderr);
  const run = await lastRun(ws.home, ws.dir);
  const show = JSON.parse((await datamill(['show', run.id, '--json'], { env: { DATAMILL_HOME: ws.home }, cwd: ws.dir })).stdout) as { attempts: Array<{ stage: string; attempt: number; status: string }> };
  assert.deepEqual(show.attempts.map((a) => `${a.stage}#${a.attempt}:${a.status}`), ['extract#1:succeeded', 'adapt#1:succeeded', 'transform#1:succeeded', 'load#1:succeeded']);
  const logs = (await datamill(['logs', run.id, '--stage', 'transform'], { env: { DATAMILL_HOME: ws.home }, cwd: ws.dir })).stdout;
  assert.match(logs, /pre-started process exited before it was needed/);
});
