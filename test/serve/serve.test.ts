import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import winston from 'winston';
import { createLogger } from '../../src/log/logger.js';
import { poolCapacity } from '../../src/pool/pool-capacity.js';
import { ResourcePool } from '../../src/pool/resource-pool.js';
import { ProcessExecutor } from '../../src/runtime/process-executor.js';
import { acceleratedClock, type Clock } from '../../src/schedule/clock.js';
import { SqliteScheduleStore } from '../../src/schedule/sqlite-schedule-store.js';
import { DatamillServer } from '../../src/serve/server.js';
import { SqliteStateStore } from '../../src/state/sqlite-store.js';
import { testDatabase, type TestDatabase } from '../support/database.js';
import { endLeftoverServers, FIRES_TABLE, serveWorkspace, slotJob, startServe, testClock, waitFor } from './serve-fixture.js';

/** In-process servers not closed yet: a failed test's server must not go on firing. */
const open = new Set<{ close(): Promise<void> }>();

/** A server in this process (to call its ServeControl), on real stores, real stage processes, real PostgreSQL. */
function inProcess(ws: ReturnType<typeof serveWorkspace>, clock: Clock): { server: DatamillServer; lines: string[]; state: SqliteStateStore; fires: SqliteScheduleStore; close(): Promise<void> } {
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  const state = new SqliteStateStore(join(ws.home, 'state.db'));
  const fires = new SqliteScheduleStore(join(ws.home, 'state.db'));
  const log = createLogger({ job: '-', run: '-' }, [new winston.transports.Stream({ stream })]);
  const server = new DatamillServer({ jobsDir: ws.jobs, home: ws.home, store: state, fires, executor: new ProcessExecutor(), pool: new ResourcePool(poolCapacity()), clock, log, leaseTtlMs: 2000 });
  const handle = { server, lines, state, fires, async close() {
    open.delete(handle);
    await server.stop(60_000);
    await fires.close();
    await state.close();
  } };
  open.add(handle);
  return handle;
}

let db: TestDatabase;
test.before(async () => {
  db = await testDatabase();
  await db.query(FIRES_TABLE);
  process.env.WAREHOUSE_URL = db.url;
});
test.afterEach(async () => {
  await endLeftoverServers();
  for (const s of [...open]) await s.close().catch(() => undefined);
});
test.after(() => db.drop());

test('serve watches its folder: a broken file is reported and skipped, an added job starts firing, a removed one stops', async () => {
  const ws = serveWorkspace();
  // forbid: a job runs one slot at a time (slots meanwhile are recorded as skipped), so the fast clock
  // (a slot every 3 s) never piles up runs on a loaded machine and beta's first run does not queue
  // behind a backlog of alpha's.
  ws.job('alpha', slotJob('alpha', { cron: '* * * * *', concurrency: 'forbid' }));
  writeFileSync(join(ws.jobs, 'broken.yaml'), 'job: broken\nschedule: { cron: "0 3 * *" }\n');
  const serve = startServe(ws.dir, ['--jobs', 'jobs'], { DATAMILL_HOME: ws.home, WAREHOUSE_URL: db.url, DATAMILL_CLOCK: testClock('2026-02-01T00:00:57Z', 20) });
  const fires = new SqliteScheduleStore(join(ws.home, 'state.db'));
  await waitFor('alpha to run a slot', async () => (await fires.listFires({ job: 'alpha', statuses: ['succeeded'] })).length >= 1);
  assert.match(serve.stderr(), /job file broken\.yaml is broken and skipped: broken\.yaml:\d+:\d+: /);
  ws.job('beta', slotJob('beta', { cron: '* * * * *', concurrency: 'forbid' }));
  await waitFor('beta, added while serving, to run a slot', async () => (await fires.listFires({ job: 'beta', statuses: ['succeeded'] })).length >= 1);
  // The same server answers its HTTP API: jobs with their next fire, the broken file, the pool.
  const api = await serve.apiUrl();
  const listed = (await (await fetch(`${api}/api/jobs`)).json()) as { jobs: Array<{ job: string; nextFireAt: string | null; schedule: string }>; brokenFiles: Array<{ file: string }> };
  assert.deepEqual(listed.jobs.map((j) => [j.job, j.schedule]), [['alpha', '* * * * *'], ['beta', '* * * * *']]);
  assert.ok(listed.jobs.every((j) => j.nextFireAt && Date.parse(j.nextFireAt) % 60_000 === 0), 'next fires are on the minute');
  assert.deepEqual(listed.brokenFiles.map((b) => b.file), ['broken.yaml']);
  const pool = (await (await fetch(`${api}/api/pool`)).json()) as { pool: { capacity: { cpus: number } } };
  assert.ok(pool.pool.capacity.cpus >= 1, 'the server\'s pool is shown');
  rmSync(join(ws.jobs, 'alpha.yaml'));
  await waitFor('the removal to be seen', () => /jobs folder changed: 1 jobs/.test(serve.stderr()));
  const alphaFires = (await fires.listFires({ job: 'alpha' })).length;
  const betaFires = (await fires.listFires({ job: 'beta' })).length;
  await waitFor('beta to fire two more slots', async () => (await fires.listFires({ job: 'beta' })).length >= betaFires + 2);
  assert.equal((await fires.listFires({ job: 'alpha' })).length, alphaFires, 'a removed job fires no more');
  assert.equal(await serve.stop(), 0);
  const rows = await db.query<{ job: string; slot: string }>("SELECT job, slot FROM fires WHERE job IN ('alpha', 'beta')");
  const succeeded = (await fires.listFires({ statuses: ['succeeded'] })).map((f) => `${f.job} ${f.slot}`).sort();
  assert.deepEqual(rows.map((r) => `${r.job} ${r.slot}`).sort(), succeeded, 'each succeeded slot loaded its rows once, tagged with its slot');
  await fires.close();
});

test('after: a child runs for its parent\'s period once the parent succeeded; a failed parent blocks it and its status says so', async () => {
  const ws = serveWorkspace();
  const buffer = `file://${ws.dir}/.datamill/buffer`;
  ws.job('parent', slotJob('parent', { cron: '0 * * * *', buffer }));
  ws.job('child', slotJob('child', { after: ['parent'], buffer }));
  ws.job('grandchild', slotJob('grandchild', { after: ['child'], buffer }));
  ws.job('broken-parent', slotJob('broken-parent', { cron: '0 * * * *', fail: true, buffer }));
  ws.job('waiting-child', slotJob('waiting-child', { after: ['broken-parent'], buffer }));
  const s = inProcess(ws, acceleratedClock(Date.parse('2026-03-01T00:59:58Z'), Date.now(), 1));
  await s.server.start();
  await waitFor('the grandchild to run for the 01:00 slot', async () => (await s.fires.getFire('grandchild', '2026-03-01T01:00:00.000Z'))?.status === 'succeeded');
  const parentRun = await s.fires.getFire('parent', '2026-03-01T01:00:00.000Z');
  const childFire = await s.fires.getFire('child', '2026-03-01T01:00:00.000Z');
  assert.equal(parentRun?.status, 'succeeded');
  assert.equal(childFire?.origin, 'after');
  const [childRun] = await s.state.listRuns({ job: 'child' });
  assert.equal(childRun?.slot, '2026-03-01T01:00:00.000Z');
  assert.ok(Date.parse(childRun!.createdAt) >= Date.parse((await s.state.getRun(parentRun!.runId!))!.finishedAt!), 'the child started after its parent finished');
  await waitFor('the broken parent to fail', async () => (await s.fires.getFire('broken-parent', '2026-03-01T01:00:00.000Z'))?.status === 'failed');
  const views = await s.server.listJobs();
  const waiting = views.find((v) => v.job === 'waiting-child')!;
  assert.match(waiting.blocked ?? '', /^blocked: parent broken-parent failed \(run \S+\) for slot 2026-03-01T01:00:00.000Z/);
  assert.equal(views.find((v) => v.job === 'child')!.blocked, null);
  assert.equal(views.find((v) => v.job === 'parent')!.nextFireAt, '2026-03-01T02:00:00.000Z');
  assert.equal(await s.fires.getFire('waiting-child', '2026-03-01T01:00:00.000Z'), null, 'a blocked child does not run');
  await s.close();
});

test('pause is durable across a restart, and a resumed job fires again without replaying the paused slots', async () => {
  const ws = serveWorkspace();
  const buffer = `file://${ws.dir}/.datamill/buffer`;
  ws.job('quiet', slotJob('quiet', { cron: '* * * * *', catchup: '1h', concurrency: 'allow', buffer }));
  ws.job('metronome', slotJob('metronome', { cron: '* * * * *', concurrency: 'forbid', buffer }));
  const clock = acceleratedClock(Date.parse('2026-04-01T00:00:50Z'), Date.now(), 20);
  let s = inProcess(ws, clock);
  await s.server.start();
  await s.server.pause('quiet');
  await s.close();
  s = inProcess(ws, clock);
  await s.server.start();
  assert.equal((await s.server.listJobs()).find((j) => j.job === 'quiet')!.paused, true);
  assert.equal((await s.server.listJobs()).find((j) => j.job === 'quiet')!.nextFireAt, null);
  await waitFor('two metronome slots', async () => (await s.fires.listFires({ job: 'metronome' })).length >= 2);
  assert.deepEqual(await s.fires.listFires({ job: 'quiet' }), [], 'a paused job does not fire');
  await s.server.resume('quiet');
  const resumedAt = clock.now();
  await waitFor('quiet to fire after resume', async () => (await s.fires.listFires({ job: 'quiet' })).length >= 1);
  const quiet = await s.fires.listFires({ job: 'quiet' });
  assert.ok(quiet.every((f) => Date.parse(f.slot) > resumedAt), 'slots from while it was paused are not caught up');
  await s.close();
});

test('after downtime, missed slots inside catchup run oldest first, older ones are recorded as skipped', async () => {
  const ws = serveWorkspace();
  const buffer = `file://${ws.dir}/.datamill/buffer`;
  ws.job('hourly', slotJob('hourly', { cron: '0 * * * *', catchup: '3h', concurrency: 'forbid', buffer }));
  const first = inProcess(ws, acceleratedClock(Date.parse('2026-05-01T00:00:00Z'), Date.now(), 1));
  await first.fires.registerJob('hourly', '2026-05-01T00:00:00.000Z');
  await first.fires.claimFires([{ job: 'hourly', slot: '2026-05-01T00:00:00.000Z', status: 'succeeded', runId: null, firedAt: '2026-05-01T00:00:00.000Z', origin: 'schedule', reason: null, resumes: 0 }]);
  await first.fires.close();
  await first.state.close();
  // The server comes back at 06:30: 01:00–03:00 are older than catchup (3h), 04:00–06:00 are inside it.
  const s = inProcess(ws, acceleratedClock(Date.parse('2026-05-01T06:30:00Z'), Date.now(), 1));
  await s.server.start();
  await waitFor('the three catch-up runs', async () => (await s.fires.listFires({ job: 'hourly', statuses: ['succeeded'] })).length === 4);
  const fires = await s.fires.listFires({ job: 'hourly' });
  assert.deepEqual(fires.map((f) => [f.slot.slice(11, 16), f.status]), [['00:00', 'succeeded'], ['01:00', 'skipped'], ['02:00', 'skipped'], ['03:00', 'skipped'], ['04:00', 'succeeded'], ['05:00', 'succeeded'], ['06:00', 'succeeded']]);
  assert.match(fires[1]!.reason!, /older than catchup/);
  const runs = (await s.state.listRuns({ job: 'hourly' })).reverse();
  assert.deepEqual(runs.map((r) => r.slot!.slice(11, 16)), ['04:00', '05:00', '06:00'], 'oldest first');
  for (let i = 1; i < runs.length; i++) assert.ok(runs[i]!.createdAt >= runs[i - 1]!.finishedAt!, 'concurrency forbid: one after another');
  await s.close();
});
