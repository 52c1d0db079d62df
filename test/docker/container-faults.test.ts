import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { CREATE_LEDGER } from '../../adapters/postgres/sql.js';
import { testDatabase } from '../support/database.js';
import { CLI, datamill } from '../support/cli.js';
import { siteStatsJob, writeEvents } from '../engine/events-fixture.js';
import { expectedSiteStats } from '../engine/site-stats-sql.js';
import { waitFor } from '../serve/serve-fixture.js';
import { containersLabelled, containerWorkspace, dockerJobExtra, engine, IMAGE, skip, SMALL_IMAGE } from './docker-fixture.js';

interface Attempt { stage: string; attempt: number; status: string; signal: string | null; error: { name: string; message: string; retryable: boolean; where?: string } | null }

const showAttempts = async (runId: string, env: Record<string, string>, cwd: string) =>
  (JSON.parse((await datamill(['show', runId, '--json'], { env, cwd })).stdout) as { attempts: Attempt[] }).attempts;

test('a stage over its memory limit fails as OutOfMemory naming the limit, and is not retried', { skip }, async () => {
  const ws = containerWorkspace();
  writeEvents(ws.dir, 'events-1.csv', { rows: 150_000 });
  // One group per row with a budget far above the stage's limit: the transform holds them all in memory.
  const transform = '  steps:\n    - group: { by: [event_id], sum: [views], memory: 2Gi }\n  resources: { cpus: 1, memory: 64Mi }';
  const job = ws.write('job.yaml', siteStatsJob({ mode: 'append', extra: dockerJobExtra(), transform }).replace('job: site-stats', 'job: oom-stage'));
  const env = { WAREHOUSE_URL: 'postgres://unused@127.0.0.1:1/x', DATAMILL_HOME: ws.home };
  const r = await datamill(['run', job], { env, cwd: ws.dir });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /transform: transform ran out of memory: killed by the kernel at its memory limit of 64\.0 MiB; raise resources\.memory for this stage/);
  const runId = /run (\S+) failed/.exec(r.stderr)![1]!;
  const attempts = await showAttempts(runId, env, ws.dir);
  assert.deepEqual(attempts.map((a) => `${a.stage}#${a.attempt}:${a.status}`), ['extract#1:succeeded', 'adapt#1:succeeded', 'transform#1:failed'], 'one attempt: the same input under the same limit would run out again');
  assert.deepEqual(attempts[2]!.error, { stage: 'transform', name: 'OutOfMemory', message: 'transform ran out of memory: killed by the kernel at its memory limit of 64.0 MiB; raise resources.memory for this stage', retryable: false, where: 'transform.resources.memory' });
  assert.deepEqual(await containersLabelled({ 'datamill.run': runId }), []);
});

test('a load container killed from outside after its COPY is retried, and the table has no duplicate rows', { skip }, async (t) => {
  const db = await testDatabase();
  t.after(() => db.drop());
  const ws = containerWorkspace();
  const events = writeEvents(ws.dir, 'events-1.csv', { rows: 800 });
  const job = ws.write('job.yaml', siteStatsJob({ mode: 'append', extra: dockerJobExtra() }).replace('job: site-stats', 'job: kill-load'));
  const env = { WAREHOUSE_URL: db.url, DATAMILL_HOME: ws.home };
  // Hold the ledger: the load copies its rows, then waits on its ledger insert, uncommitted — the moment
  // a kill is most dangerous.
  for (const ddl of CREATE_LEDGER) await db.query(ddl);
  const holder = new pg.Client({ connectionString: db.url });
  holder.on('error', () => undefined); // the database is dropped with FORCE at the end
  await holder.connect();
  t.after(() => holder.end());
  await holder.query('BEGIN; LOCK TABLE datamill.loads IN EXCLUSIVE MODE');

  const run = datamill(['run', job], { env, cwd: ws.dir });
  await waitFor('the load to wait on its ledger insert', async () => (await db.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO datamill.loads%'`)).length > 0);
  const [load] = await containersLabelled({ 'datamill.job': 'kill-load', 'datamill.stage': 'load' });
  assert.ok(load, 'the load runs in a container');
  const container = engine().getContainer(load.Id);
  const info = await container.inspect();
  // What a stage container runs as: an unprivileged user, read-only root, no capabilities, its limits.
  assert.equal(info.Config.User, process.getuid?.() === 0 ? '1000:1000' : `${process.getuid?.()}:${process.getgid?.()}`);
  assert.equal(info.Config.Image, IMAGE);
  assert.equal(info.HostConfig.ReadonlyRootfs, true);
  assert.deepEqual(info.HostConfig.CapDrop, ['ALL']);
  assert.deepEqual(info.HostConfig.SecurityOpt, ['no-new-privileges']);
  assert.equal(info.HostConfig.NetworkMode, 'host', 'a load into PostgreSQL reaches it on the host network');
  assert.equal(info.HostConfig.Memory, 512 * 1024 ** 2);
  assert.equal(info.HostConfig.NanoCpus, 1e9);
  // Only what the job names reaches the container: its ${env:WAREHOUSE_URL}, not the rest of the host's environment.
  assert.ok(info.Config.Env.includes(`WAREHOUSE_URL=${db.url}`));
  assert.ok(!info.Config.Env.some((e) => e === `DATAMILL_HOME=${ws.home}` || e.startsWith('DOCKER_HOST=')), info.Config.Env.join(' '));
  assert.ok(info.Config.Env.includes('NODE_OPTIONS=--max-semi-space-size=16'), 'V8 gets the young generation it would take on a large host');
  await container.kill();
  await waitFor('the killed container to stop', async () => !(await container.inspect().then((i) => i.State.Running, () => false)));
  await holder.query('COMMIT');

  const r = await run;
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const runId = /run (\S+) succeeded/.exec(r.stdout)![1]!;
  const expected = await expectedSiteStats(db, [events.path]);
  const loaded = await db.query('SELECT day::text, site_id::text, views::text, clicks::text, events::text FROM analytics.site_stats ORDER BY 1, 2');
  assert.deepEqual(loaded, expected, 'each group once: the killed attempt committed nothing');
  assert.deepEqual(await db.query('SELECT run_id FROM datamill.loads'), [{ run_id: runId }]);
  const loads = (await showAttempts(runId, env, ws.dir)).filter((a) => a.stage === 'load');
  assert.deepEqual(loads.map((a) => [a.attempt, a.status, a.signal, a.error?.name ?? null]), [[1, 'failed', 'SIGKILL', 'TaskKilled'], [2, 'succeeded', null, null]]);
  assert.deepEqual(await containersLabelled({ 'datamill.run': runId }), []);
});

test('stage containers of a `datamill run` killed with SIGKILL are reaped by the next Datamill process, and the run shows as interrupted', { skip }, async (t) => {
  // An API that never answers keeps the extract container running.
  let asked: IncomingMessage | null = null;
  let hungUp = false;
  const api = createServer((req) => {
    asked = req;
    req.socket.once('close', () => (hungUp = true));
  });
  api.listen(0, '127.0.0.1');
  await once(api, 'listening');
  t.after(() => {
    api.closeAllConnections();
    api.close();
  });
  const ws = containerWorkspace();
  const job = ws.write('job.yaml', `job: reap-orphans
buffer: file://.datamill/buffer
${dockerJobExtra()}
extract: { from: http, url: "http://127.0.0.1:${(api.address() as AddressInfo).port}/events", request_timeout: 10m }
adapt: { fields: { id: integer } }
load: { to: file, path: out/events.csv }
`);
  const env = { ...process.env, DATAMILL_HOME: ws.home };
  const child = spawn(process.execPath, [CLI, 'run', job], { cwd: ws.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(child, 'exit');
  await waitFor('the extract container to call the API', () => asked !== null);
  const runId = /run (\S+) of reap-orphans/.exec(out)![1]!;
  child.kill('SIGKILL');
  await exited;

  const orphans = await containersLabelled({ 'datamill.run': runId });
  assert.deepEqual(orphans.map((c) => [c.Labels['datamill.stage'], c.State]), [['extract', 'running']], 'the container outlives the killed datamill');

  // Any Datamill process that uses the engine reaps first: here a one-off container.
  const next = await datamill(['exec', '--image', SMALL_IMAGE, '--', 'true'], { env: { DATAMILL_HOME: ws.home }, cwd: ws.dir });
  assert.equal(next.code, 0, next.stderr);
  assert.deepEqual(await containersLabelled({ 'datamill.run': runId }), []);
  await waitFor('the reaped container to hang up on the API', () => hungUp, 30_000);

  const runs = JSON.parse((await datamill(['runs', '--json'], { env: { DATAMILL_HOME: ws.home }, cwd: ws.dir })).stdout) as Array<{ id: string; status: string; error: { name: string } | null }>;
  const killed = runs.find((r) => r.id === runId)!;
  assert.equal(killed.status, 'interrupted');
  assert.equal(killed.error?.name, 'RunnerDied');
});
