import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabase, type TestDatabase } from '../support/database.js';
import { PostgresScheduleStore } from '../../src/schedule/postgres-schedule-store.js';
import { PostgresStateStore } from '../../src/state/postgres-store.js';
import type { FireRecord } from '../../src/schedule/schedule-store.js';
import { endLeftoverServers, FIRES_TABLE, pauseJobs, serveWorkspace, slotJob, startServe, testClock, waitFor } from './serve-fixture.js';

/**
 * Real `datamill serve` processes on a real PostgreSQL (`--state`: runs and fire records; and the
 * warehouse table), killed with SIGKILL at the worst moments. The clock runs fast so minutes of slots pass
 * in seconds, but not faster than a slot's runs finish on a loaded 2-core machine (a run is three stage
 * processes of ~1 s of cpu each): a clock that outruns the runs only piles up a backlog.
 */

test.afterEach(endLeftoverServers);

/**
 * How long a wait for runs to finish may take. A run takes seconds, but other work on a shared 2-core
 * machine has been seen to stretch one to a minute and more; the tests pause their jobs first, so what
 * they wait for is a fixed amount of work, and a generous deadline only matters when the machine crawls.
 */
const COMPLETION_MS = 480_000;

async function loadedSlots(db: TestDatabase): Promise<Map<string, number>> {
  const rows = await db.query<{ job: string; slot: string; n: string }>('SELECT job, slot, count(*) AS n FROM fires GROUP BY job, slot');
  return new Map(rows.map((r) => [`${r.job} ${r.slot}`, Number(r.n)]));
}

/** Every fire has at most one loaded row set; every succeeded fire loaded exactly once; no run left running. */
async function assertExactlyOnce(db: TestDatabase, fires: FireRecord[]): Promise<void> {
  const loaded = await loadedSlots(db);
  for (const [key, n] of loaded) assert.equal(n, 1, `${key} was loaded ${n} times`);
  for (const f of fires) if (f.status === 'succeeded') assert.equal(loaded.get(`${f.job} ${f.slot}`), 1, `${f.job} ${f.slot} succeeded but loaded nothing`);
  const store = await PostgresStateStore.open(db.url);
  const runs = await store.listRuns({ limit: 10_000 });
  await store.close();
  assert.deepEqual(runs.filter((r) => r.status === 'running').map((r) => r.id), [], 'no run is left running');
  const bySlot = new Map<string, number>();
  for (const r of runs) if (r.slot) bySlot.set(`${r.job} ${r.slot}`, (bySlot.get(`${r.job} ${r.slot}`) ?? 0) + 1);
  for (const [key, n] of bySlot) assert.equal(n, 1, `${key} has ${n} runs`);
}

/** On a failure: the fire records and the runs with their errors, so the cause shows in the test's output. */
async function printState(db: TestDatabase): Promise<void> {
  const fires = await PostgresScheduleStore.open(db.url);
  const store = await PostgresStateStore.open(db.url);
  try {
    for (const f of await fires.listFires()) process.stdout.write(`# fire ${f.job} ${f.slot} ${f.status} origin=${f.origin} resumes=${f.resumes} run=${f.runId ?? '-'}${f.reason ? ` reason=${f.reason}` : ''}\n`);
    for (const r of await store.listRuns({ limit: 100 })) {
      process.stdout.write(`# run ${r.id} ${r.job} ${r.slot ?? '-'} ${r.status}${r.error ? ` error=${JSON.stringify(r.error)}` : ''}\n`);
      for (const a of await store.listAttempts(r.id)) if (a.status !== 'succeeded') process.stdout.write(`#   ${a.stage}#${a.attempt} ${a.status} ${JSON.stringify(a.error)}\n`);
    }
  } finally {
    await fires.close();
    await store.close();
  }
}

/** Runs a test body on a fresh database; on a failure prints what the database holds, then fails. */
async function onDatabase(body: (db: TestDatabase) => Promise<void>): Promise<void> {
  const db = await testDatabase();
  await db.query(FIRES_TABLE);
  try {
    await body(db);
  } catch (err) {
    await printState(db).catch(() => undefined);
    throw err;
  }
  await db.drop();
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

test('kill -9 of the server during a run: on restart the run resumes and completes, slots missed meanwhile run, none twice', () => onDatabase(async (db) => {
  const ws = serveWorkspace();
  ws.job('tick', slotJob('tick', { cron: '* * * * *', catchup: '30m', concurrency: 'allow' }));
  // One slot every 10 s of real time.
  const speed = 6;
  const clockAt = Date.now();
  const clockStart = Date.parse('2026-01-01T00:00:55Z');
  const env = { DATAMILL_HOME: ws.home, WAREHOUSE_URL: db.url, DATAMILL_CLOCK: testClock(new Date(clockStart).toISOString(), speed, clockAt) };
  const args = ['--jobs', 'jobs', '--state', db.url, '--lease-ttl', '2s', '--grace', '60s'];
  const first = startServe(ws.dir, args, env);
  const state = await PostgresStateStore.open(db.url);
  const fires = await PostgresScheduleStore.open(db.url);
  const inFlight = await waitFor('a stage past extract running', async () => {
    for (const run of await state.listRuns({ status: 'running' })) {
      const attempts = await state.listAttempts(run.id);
      if (attempts.some((a) => a.status === 'running' && a.stage !== 'extract')) return run;
    }
    return undefined;
  });
  first.child.kill('SIGKILL');
  await first.exit;
  // Down until a slot has passed (on the test clock) that the dead server could not have fired.
  const clockNow = () => clockStart + (Date.now() - clockAt) * speed;
  const missed = Math.floor(clockNow() / 60_000) * 60_000 + 60_000;
  await waitFor('a slot to pass while the server is down', () => clockNow() > missed + 5_000);
  const second = startServe(ws.dir, args, env);
  await waitFor('the missed slot and a third one to be fired', async () => (await fires.getFire('tick', new Date(missed).toISOString())) !== null && (await fires.listFires({ job: 'tick' })).length >= 3);
  await pauseJobs(second, ['tick']);
  await waitFor('the interrupted run to complete', async () => (await state.getRun(inFlight.id))?.status === 'succeeded', COMPLETION_MS);
  await waitFor('the missed slot to succeed', async () => (await fires.getFire('tick', new Date(missed).toISOString()))?.status === 'succeeded', COMPLETION_MS);
  await waitFor('the first three slots to succeed', async () => {
    const all = await fires.listFires({ job: 'tick' });
    return all.length >= 3 && all.slice(0, 3).every((f) => f.status === 'succeeded');
  }, COMPLETION_MS);
  assert.equal(await second.stop(), 0);
  const all = await fires.listFires({ job: 'tick' });
  assert.ok(all.find((f) => f.runId === inFlight.id && f.status === 'succeeded' && f.resumes === 1), 'the interrupted run was resumed once and succeeded');
  assert.equal(all.find((f) => f.slot === new Date(missed).toISOString())?.origin, 'catchup', 'the slot missed while the server was down ran after the restart');
  assertNoGaps(all);
  await assertExactlyOnce(db, all);
  assert.match(second.stderr(), /resuming run .* from (adapt|transform|load)/);
  await state.close();
  await fires.close();
}));

test('kill -9 of the server right after a fire is recorded: the restarted server runs that slot, once', () => onDatabase(async (db) => {
  const ws = serveWorkspace();
  ws.job('tock', slotJob('tock', { cron: '* * * * *', catchup: '30m', concurrency: 'allow' }));
  const clock = testClock('2026-01-01T00:00:55Z', 6);
  const args = ['--jobs', 'jobs', '--state', db.url, '--lease-ttl', '2s'];
  const first = startServe(ws.dir, args, { DATAMILL_HOME: ws.home, WAREHOUSE_URL: db.url, DATAMILL_CLOCK: clock, DATAMILL_SERVER_FAULT: 'fire-claimed:2' });
  await first.exit;
  assert.equal(first.child.signalCode, 'SIGKILL', `the server was to kill itself at its second fire; it exited otherwise:\n${first.stderr()}`);
  const fires = await PostgresScheduleStore.open(db.url);
  const [claimed] = await fires.listFires({ job: 'tock', newestFirst: true, limit: 1 });
  assert.ok(claimed, 'the fire is recorded in PostgreSQL (--state)');
  assert.equal(claimed.status, 'fired', 'the fire was recorded before its run started');
  assert.equal(claimed.runId, null);
  const second = startServe(ws.dir, args, { DATAMILL_HOME: ws.home, WAREHOUSE_URL: db.url, DATAMILL_CLOCK: clock });
  await waitFor('the slot after it to be fired', async () => (await fires.listFires({ job: 'tock' })).length >= 3);
  await pauseJobs(second, ['tock']);
  await waitFor('the recorded slot to run', async () => (await fires.getFire('tock', claimed.slot))?.status === 'succeeded', COMPLETION_MS);
  await waitFor('the slot after it too', async () => (await fires.listFires({ job: 'tock', statuses: ['succeeded'] })).length >= 3, COMPLETION_MS);
  assert.equal(await second.stop(), 0);
  const all = await fires.listFires({ job: 'tock' });
  assert.equal(all.find((f) => f.slot === claimed.slot)?.resumes, 1, 'the restarted server started the recorded slot (and no one else did)');
  assertNoGaps(all);
  await assertExactlyOnce(db, all);
  await fires.close();
}));

// Six jobs, not more: each slot's six runs (18 stage processes) take ~20 s of cpu, well inside the 30 s a
// slot lasts on this clock even on a loaded 2-core machine. Every slot is still claimed by the leader in
// one batch while a second server competes for the lease, which is what double fires would come from.
const JOBS = 6;

test(`two servers on one PostgreSQL: ${JOBS} jobs fire each slot exactly once, also when the leader is killed midway`, () => onDatabase(async (db) => {
  const ws = serveWorkspace();
  const names = Array.from({ length: JOBS }, (_, i) => `job-${String(i).padStart(2, '0')}`);
  for (const n of names) ws.job(n, slotJob(n, { cron: '* * * * *', catchup: '30m', concurrency: 'allow' }));
  const env = { DATAMILL_HOME: ws.home, WAREHOUSE_URL: db.url, DATAMILL_CLOCK: testClock('2026-01-01T00:00:55Z', 2) };
  const args = ['--jobs', 'jobs', '--state', db.url, '--lease-ttl', '2s', '--grace', '120s'];
  const one = startServe(ws.dir, args, env);
  await waitFor('the first server to lead', () => one.log.some((l) => /leads the scheduler/.test(String(l.message))));
  const two = startServe(ws.dir, args, env);
  await waitFor('the second server to start', () => two.log.some((l) => new RegExp(`serving ${JOBS} jobs`).test(String(l.message))));
  const fires = await PostgresScheduleStore.open(db.url);
  await waitFor('the first slot of every job to be fired', async () => (await fires.listFires()).length >= JOBS);
  // Killed while the first slot's runs are in flight (or not even started).
  one.child.kill('SIGKILL');
  await one.exit;
  await waitFor('the second server to take over', () => two.log.some((l) => /leads the scheduler/.test(String(l.message))), 60_000);
  await waitFor('the second slot of every job to be fired', async () => {
    const all = await fires.listFires();
    return names.every((n) => all.filter((f) => f.job === n).length >= 2);
  });
  await pauseJobs(two, names);
  await waitFor('the first two slots of every job to succeed', async () => {
    const done = await fires.listFires({ statuses: ['succeeded'] });
    return names.every((n) => done.filter((f) => f.job === n).length >= 2);
  }, COMPLETION_MS);
  assert.equal(await two.stop(), 0);
  const all = await fires.listFires();
  assert.ok(all.length >= 2 * JOBS);
  assertNoGaps(all);
  await assertExactlyOnce(db, all);
  await fires.close();
}));
