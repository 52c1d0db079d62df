import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { testDatabase, type TestDatabase } from '../support/database.js';
import { PostgresScheduleStore } from '../../src/schedule/postgres-schedule-store.js';
import { SqliteStateStore } from '../../src/state/sqlite-store.js';
import type { FireRecord } from '../../src/schedule/schedule-store.js';
import { FIRES_TABLE, serveWorkspace, slotJob, startServe, testClock, waitFor } from './serve-fixture.js';

/**
 * Real `datamill serve` processes on a real PostgreSQL (fire records and the warehouse table), killed
 * with SIGKILL at the worst moments. The clock runs fast so minutes of slots pass in seconds.
 */

async function loadedSlots(db: TestDatabase): Promise<Map<string, number>> {
  const rows = await db.query<{ job: string; slot: string; n: string }>('SELECT job, slot, count(*) AS n FROM fires GROUP BY job, slot');
  return new Map(rows.map((r) => [`${r.job} ${r.slot}`, Number(r.n)]));
}

/** Every fire has at most one loaded row set; every succeeded fire loaded exactly once; no run left running. */
async function assertExactlyOnce(db: TestDatabase, fires: FireRecord[], home: string): Promise<void> {
  const loaded = await loadedSlots(db);
  for (const [key, n] of loaded) assert.equal(n, 1, `${key} was loaded ${n} times`);
  for (const f of fires) if (f.status === 'succeeded') assert.equal(loaded.get(`${f.job} ${f.slot}`), 1, `${f.job} ${f.slot} succeeded but loaded nothing`);
  const store = new SqliteStateStore(join(home, 'state.db'));
  const runs = await store.listRuns({ limit: 10_000 });
  await store.close();
  assert.deepEqual(runs.filter((r) => r.status === 'running').map((r) => r.id), [], 'no run is left running');
  const bySlot = new Map<string, number>();
  for (const r of runs) if (r.slot) bySlot.set(`${r.job} ${r.slot}`, (bySlot.get(`${r.job} ${r.slot}`) ?? 0) + 1);
  for (const [key, n] of bySlot) assert.equal(n, 1, `${key} has ${n} runs`);
}

/** The slots between the first and the last fire of each job are all there: none lost, none skipped. */
function assertNoGaps(fires: FireRecord[], minuteMs = 60_000): void {
  const byJob = new Map<string, number[]>();
  for (const f of fires) byJob.set(f.job, [...(byJob.get(f.job) ?? []), Date.parse(f.slot)]);
  for (const [job, slots] of byJob) {
    slots.sort((a, b) => a - b);
    for (let i = 1; i < slots.length; i++) assert.equal(slots[i]! - slots[i - 1]!, minuteMs, `${job}: a slot is missing before ${new Date(slots[i]!).toISOString()}`);
  }
  assert.deepEqual(fires.filter((f) => f.status === 'skipped'), []);
}

test('kill -9 of the server during a run: on restart the run resumes and completes, slots missed meanwhile run, none twice', async () => {
  const db = await testDatabase();
  await db.query(FIRES_TABLE);
  const ws = serveWorkspace();
  ws.job('tick', slotJob('tick', { cron: '* * * * *', catchup: '30m', concurrency: 'allow' }));
  const env = { DATAMILL_HOME: ws.home, WAREHOUSE_URL: db.url, DATAMILL_CLOCK: testClock('2026-01-01T00:00:55Z', 6) };
  const args = ['--jobs', 'jobs', '--state', db.url, '--lease-ttl', '2s', '--grace', '60s'];
  const first = startServe(ws.dir, args, env);
  const state = new SqliteStateStore(join(ws.home, 'state.db'));
  const inFlight = await waitFor('a stage past extract running', async () => {
    for (const run of await state.listRuns({ status: 'running' })) {
      const attempts = await state.listAttempts(run.id);
      if (attempts.some((a) => a.status === 'running' && a.stage !== 'extract')) return run;
    }
    return undefined;
  });
  first.child.kill('SIGKILL');
  await first.exit;
  // Down for at least one slot (10 s of real time is one minute on this clock).
  await sleep(12_000);
  const second = startServe(ws.dir, args, env);
  const fires = await PostgresScheduleStore.open(db.url);
  await waitFor('the interrupted run to complete', async () => (await state.getRun(inFlight.id))?.status === 'succeeded');
  await waitFor('the first three slots to succeed', async () => {
    const all = await fires.listFires({ job: 'tick' });
    return all.length >= 3 && all.slice(0, 3).every((f) => f.status === 'succeeded');
  });
  assert.equal(await second.stop(), 0);
  const all = await fires.listFires({ job: 'tick' });
  assert.ok(all.find((f) => f.runId === inFlight.id && f.status === 'succeeded' && f.resumes === 1), 'the interrupted run was resumed once and succeeded');
  assert.ok(all.some((f) => f.origin === 'catchup'), 'a slot missed while the server was down ran after the restart');
  assertNoGaps(all);
  await assertExactlyOnce(db, all, ws.home);
  assert.match(second.stderr(), /resuming run .* from (adapt|transform|load)/);
  await state.close();
  await fires.close();
  await db.drop();
});

test('kill -9 of the server right after a fire is recorded: the restarted server runs that slot, once', async () => {
  const db = await testDatabase();
  await db.query(FIRES_TABLE);
  const ws = serveWorkspace();
  ws.job('tock', slotJob('tock', { cron: '* * * * *', catchup: '30m', concurrency: 'allow' }));
  const clock = testClock('2026-01-01T00:00:55Z', 6);
  const args = ['--jobs', 'jobs', '--state', db.url, '--lease-ttl', '2s'];
  const first = startServe(ws.dir, args, { DATAMILL_HOME: ws.home, WAREHOUSE_URL: db.url, DATAMILL_CLOCK: clock, DATAMILL_SERVER_FAULT: 'fire-claimed:2' });
  await first.exit;
  assert.equal(first.child.signalCode, 'SIGKILL');
  const fires = await PostgresScheduleStore.open(db.url);
  const [claimed] = await fires.listFires({ job: 'tock', newestFirst: true, limit: 1 });
  assert.equal(claimed!.status, 'fired', 'the fire was recorded before its run started');
  assert.equal(claimed!.runId, null);
  const second = startServe(ws.dir, args, { DATAMILL_HOME: ws.home, WAREHOUSE_URL: db.url, DATAMILL_CLOCK: clock });
  await waitFor('the recorded slot to run', async () => (await fires.getFire('tock', claimed!.slot))?.status === 'succeeded');
  await waitFor('the slot after it too', async () => (await fires.listFires({ job: 'tock', statuses: ['succeeded'] })).length >= 3);
  assert.equal(await second.stop(), 0);
  const all = await fires.listFires({ job: 'tock' });
  assertNoGaps(all);
  await assertExactlyOnce(db, all, ws.home);
  await fires.close();
  await db.drop();
});

test('two servers on one PostgreSQL: 20 jobs fire each slot exactly once, also when the leader is killed midway', async () => {
  const db = await testDatabase();
  await db.query(FIRES_TABLE);
  const ws = serveWorkspace();
  const names = Array.from({ length: 20 }, (_, i) => `job-${String(i).padStart(2, '0')}`);
  for (const n of names) ws.job(n, slotJob(n, { cron: '* * * * *', catchup: '30m', concurrency: 'allow' }));
  const env = { DATAMILL_HOME: ws.home, WAREHOUSE_URL: db.url, DATAMILL_CLOCK: testClock('2026-01-01T00:00:55Z', 2) };
  const args = ['--jobs', 'jobs', '--state', db.url, '--lease-ttl', '2s', '--grace', '120s'];
  const one = startServe(ws.dir, args, env);
  await waitFor('the first server to lead', () => one.log.some((l) => /leads the scheduler/.test(String(l.message))));
  const two = startServe(ws.dir, args, env);
  await waitFor('the second server to start', () => two.log.some((l) => /serving 20 jobs/.test(String(l.message))));
  const fires = await PostgresScheduleStore.open(db.url);
  await waitFor('the first slot of every job to be fired', async () => (await fires.listFires()).length >= 20);
  one.child.kill('SIGKILL');
  await one.exit;
  await waitFor('the second server to take over', () => two.log.some((l) => /leads the scheduler/.test(String(l.message))), 60_000);
  await waitFor('the next slot of every job to succeed too', async () => {
    const done = await fires.listFires({ statuses: ['succeeded'] });
    return names.every((n) => done.filter((f) => f.job === n).length >= 2);
  }, 900_000);
  assert.equal(await two.stop(), 0);
  const all = await fires.listFires();
  assert.ok(all.length >= 40);
  assertNoGaps(all);
  await assertExactlyOnce(db, all, ws.home);
  await fires.close();
  await db.drop();
});
