import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { testDatabase, type TestDatabase } from '../support/database.js';
import { datamill, workspace } from '../support/cli.js';
import { siteStatsJob, writeEvents } from './events-fixture.js';
import { expectedSiteStats } from './site-stats-sql.js';

async function actual(db: TestDatabase, table = 'analytics.site_stats') {
  return db.query(`SELECT day::text, site_id::text, views::text, clicks::text, events::text FROM ${table} ORDER BY 1, 2`);
}

test('the example job loads into PostgreSQL exactly what the same SQL computes, and an upsert run twice leaves the same table', async (t) => {
  const db = await testDatabase();
  t.after(() => db.drop());
  const ws = workspace();
  const a = writeEvents(ws.dir, 'events-1.csv', { rows: 2000, start: 1, bad: 3 });
  const b = writeEvents(ws.dir, 'events-2.csv', { rows: 1500, start: 10_000 });
  const job = ws.write('job.yaml', siteStatsJob({ mode: 'upsert' }));
  const env = { WAREHOUSE_URL: db.url, DATAMILL_HOME: ws.home };

  const first = await datamill(['run', job], { env, cwd: ws.dir });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /succeeded/);
  const expected = await expectedSiteStats(db, [a.path, b.path]);
  assert.ok(expected.length > 10);
  assert.deepEqual(await actual(db), expected);

  const second = await datamill(['run', job], { env, cwd: ws.dir });
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(await actual(db), expected, 'a second upsert of the same data changes nothing');

  const runs = JSON.parse((await datamill(['runs', '--json'], { env, cwd: ws.dir })).stdout) as Array<{ id: string; status: string; figures: Record<string, number> }>;
  assert.equal(runs.length, 2);
  assert.ok(runs.every((r) => r.status === 'succeeded'));
  assert.equal(runs[0]!.figures.rows_rejected, 3);
  assert.equal(runs[0]!.figures.rows_loaded, expected.length);

  const rejectsDir = join(ws.dir, '.datamill/buffer/default/site-stats', runs[0]!.id, 'adapt/_rejects');
  const rejects = readdirSync(rejectsDir).flatMap((f) => readFileSync(join(rejectsDir, f), 'utf8').trim().split('\n')).map((l) => JSON.parse(l) as { reason: string; line: number; origin: string; record: unknown });
  assert.equal(rejects.length, 3);
  assert.deepEqual(rejects.map((r) => r.origin), ['events-1.csv', 'events-1.csv', 'events-1.csv']);
  assert.match(rejects[0]!.reason, /views: 'twelve' is not an integer/);
  assert.match(rejects[1]!.reason, /ts: .* is not a valid/);
  assert.match(rejects[2]!.reason, /expected 7 columns, found 3/);
  assert.equal(rejects[0]!.line, 2002);

  const show = JSON.parse((await datamill(['show', runs[0]!.id, '--json'], { env, cwd: ws.dir })).stdout) as { attempts: Array<{ stage: string; status: string; peakRssBytes: number; cpuSeconds: number; rowsOut: number }> };
  assert.deepEqual(show.attempts.map((x) => `${x.stage}:${x.status}`), ['extract:succeeded', 'adapt:succeeded', 'transform:succeeded', 'load:succeeded']);
  assert.ok(show.attempts.every((x) => x.peakRssBytes > 10_000_000 && x.cpuSeconds > 0), 'each stage records its own memory and CPU');
});

test('a load stage killed with SIGKILL after its COPY and before its commit is retried and leaves exactly the expected rows', async (t) => {
  const db = await testDatabase();
  t.after(() => db.drop());
  const ws = workspace();
  const a = writeEvents(ws.dir, 'events-1.csv', { rows: 3000 });
  const job = ws.write('job.yaml', siteStatsJob({ mode: 'append' }));
  const env = { WAREHOUSE_URL: db.url, DATAMILL_HOME: ws.home, DATAMILL_FAULT: 'load:before-commit:1' };
  const r = await datamill(['run', job], { env, cwd: ws.dir });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await actual(db), await expectedSiteStats(db, [a.path]));
  const runId = /run (\S+) succeeded/.exec(r.stdout)![1]!;
  const show = JSON.parse((await datamill(['show', runId, '--json'], { env, cwd: ws.dir })).stdout) as { attempts: Array<{ stage: string; attempt: number; status: string; signal: string | null }> };
  const loads = show.attempts.filter((x) => x.stage === 'load');
  assert.deepEqual(loads.map((x) => [x.attempt, x.status, x.signal]), [[1, 'failed', 'SIGKILL'], [2, 'succeeded', null]]);
  const ledger = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM datamill.loads');
  assert.equal(ledger[0]!.n, '1');
});

test('a stage process killed at start is retried from the committed output of the stage before it', async (t) => {
  const db = await testDatabase();
  t.after(() => db.drop());
  const ws = workspace();
  const a = writeEvents(ws.dir, 'events-1.csv', { rows: 500 });
  const job = ws.write('job.yaml', siteStatsJob({ mode: 'replace' }));
  const r = await datamill(['run', job], { env: { WAREHOUSE_URL: db.url, DATAMILL_HOME: ws.home, DATAMILL_FAULT: 'transform:start:1' }, cwd: ws.dir });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await actual(db), await expectedSiteStats(db, [a.path]));
  const logs = (await datamill(['logs', /run (\S+) succeeded/.exec(r.stdout)![1]!, '--stage', 'transform'], { env: { DATAMILL_HOME: ws.home }, cwd: ws.dir })).stdout;
  assert.match(logs, /transform attempt 1 failed: transform process was killed by SIGKILL/);
  assert.match(logs, /transform attempt 2 succeeded/);
});

test('a reject ratio above the limit fails the run, loads nothing, and the state store says why', async (t) => {
  const db = await testDatabase();
  t.after(() => db.drop());
  const ws = workspace();
  writeEvents(ws.dir, 'events-1.csv', { rows: 100, bad: 6 });
  const job = ws.write('job.yaml', siteStatsJob({ mode: 'append', maxRejectRatio: 0.02 }));
  const env = { WAREHOUSE_URL: db.url, DATAMILL_HOME: ws.home };
  const r = await datamill(['run', job], { env, cwd: ws.dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /adapt: 6 of 106 rows rejected \(5\.66%\), above adapt\.max_reject_ratio 0\.02/);
  const tables = await db.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'site_stats'");
  assert.equal(tables.length, 0, 'nothing was loaded');
  const [run] = JSON.parse((await datamill(['runs', '--json'], { env, cwd: ws.dir })).stdout) as Array<{ status: string; error: { stage: string; name: string; retryable: boolean } }>;
  assert.equal(run!.status, 'failed');
  assert.deepEqual([run!.error.stage, run!.error.name, run!.error.retryable], ['adapt', 'AdaptError', false]);
});

test('an unreachable database fails the load with a retryable error that never shows the password', async (t) => {
  const ws = workspace();
  writeEvents(ws.dir, 'events-1.csv', { rows: 50 });
  const job = ws.write('job.yaml', siteStatsJob({ mode: 'append', extra: 'retries: { attempts: 2, backoff: 50ms }' }).replace(/^retries:.*\n/m, ''));
  const secret = 'S3cr3t-pa55word';
  const env = { WAREHOUSE_URL: `postgres://loader:${secret}@127.0.0.1:1/warehouse`, DATAMILL_HOME: ws.home };
  const r = await datamill(['run', job], { env, cwd: ws.dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /load: .*127\.0\.0\.1:1/);
  const id = /run (\S+) failed/.exec(r.stderr)![1]!;
  const everything = r.stdout + r.stderr + (await datamill(['logs', id, '--json'], { env, cwd: ws.dir })).stdout + (await datamill(['show', id, '--json'], { env, cwd: ws.dir })).stdout;
  assert.ok(!everything.includes(secret), 'the password appears nowhere');
  const show = JSON.parse((await datamill(['show', id, '--json'], { env, cwd: ws.dir })).stdout) as { attempts: Array<{ stage: string; status: string }> };
  assert.equal(show.attempts.filter((a) => a.stage === 'load').length, 2, 'retried once, as configured');
  t.after(() => undefined);
});
