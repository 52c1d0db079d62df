import { test } from 'node:test';
import assert from 'node:assert/strict';
import { datamill } from '../support/cli.js';
import { serveWorkspace, startServe } from '../serve/serve-fixture.js';
import { containersLabelled, skip, SMALL_IMAGE } from './docker-fixture.js';

interface PoolView { capacity: { cpus: number; memoryBytes: number }; inUse: { cpus: number; memoryBytes: number }; running: Array<{ tenant: string; job: string }>; waiting: unknown[] }
interface Attempt { startedAt: string; finishedAt: string; status: string; executor: string }

const GiB = 1024 ** 3;

/** The most intervals open at one instant (a finish at the same instant as a start does not overlap it). */
function peakOverlap(intervals: Array<[number, number]>): number {
  const points = intervals.flatMap(([s, e]) => [[s, 1], [e, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let peak = 0;
  for (const [, d] of points) peak = Math.max(peak, (open += d));
  return peak;
}

test('8 one-cpu containers sent to a 2-cpu server pool never run more than 2 at once, by the pool\'s records and by the engine', { skip }, async (t) => {
  const ws = serveWorkspace();
  const env = { DATAMILL_HOME: ws.home };
  const serve = startServe(ws.dir, ['--jobs', ws.jobs, '--pool-cpus', '2', '--pool-memory', '8Gi'], env);
  t.after(() => serve.stop());
  const url = await serve.apiUrl();

  const idle = JSON.parse((await datamill(['pool', '--server', url, '--json'], { env, cwd: ws.dir })).stdout) as PoolView;
  assert.deepEqual(idle.capacity, { cpus: 2, memoryBytes: 8 * GiB, quotas: {} });
  assert.deepEqual([idle.running, idle.waiting, idle.inUse], [[], [], { cpus: 0, memoryBytes: 0 }]);

  const tenant = 'pool-test';
  const tasks = Array.from({ length: 8 }, (_, i) => datamill(['exec', '--server', url, '--tenant', tenant, '--image', SMALL_IMAGE, '--cpus', '1', '--memory', '64Mi', '--', 'sh', '-c', `sleep 3; echo task-${i}`], { env, cwd: ws.dir }));
  let settled = false;
  const all = Promise.all(tasks).finally(() => (settled = true));
  // Sample the server's pool and the engine's container list until every task is done.
  const pool: Array<{ running: number; waiting: number }> = [];
  const engine: number[] = [];
  while (!settled) {
    const view = ((await (await fetch(`${url}/api/pool`)).json()) as { pool: PoolView }).pool;
    pool.push({ running: view.running.filter((r) => r.tenant === tenant).length, waiting: view.waiting.length });
    engine.push((await containersLabelled({ 'datamill.tenant': tenant })).filter((c) => c.State === 'running').length);
    await new Promise((r) => setTimeout(r, 100));
  }
  const results = await all;
  assert.deepEqual(results.map((r) => [r.code, r.stdout]), results.map((_, i) => [0, `task-${i}\n`]), results.map((r) => r.stderr).join('\n'));

  assert.ok(pool.every((s) => s.running <= 2), `pool samples: ${JSON.stringify(pool)}`);
  assert.ok(pool.some((s) => s.running === 2 && s.waiting > 0), `the pool ran 2 while others waited: ${JSON.stringify(pool)}`);
  assert.ok(engine.every((n) => n <= 2), `running containers sampled from the engine: ${JSON.stringify(engine)}`);
  assert.ok(engine.includes(2), `the engine ran 2 at once at some point: ${JSON.stringify(engine)}`);

  // The state store's record of each container's run time, as the server recorded it.
  const runs = ((await (await fetch(`${url}/api/runs?job=exec`)).json()) as { runs: Array<{ id: string; tenant: string; status: string }> }).runs.filter((r) => r.tenant === tenant);
  assert.equal(runs.length, 8);
  const attempts = await Promise.all(runs.map(async (r) => ((await (await fetch(`${url}/api/runs/${r.id}`)).json()) as { attempts: Attempt[] }).attempts));
  assert.ok(attempts.every((a) => a.length === 1 && a[0]!.status === 'succeeded' && a[0]!.executor === 'docker'));
  assert.equal(peakOverlap(attempts.map(([a]) => [Date.parse(a!.startedAt), Date.parse(a!.finishedAt)])), 2);

  const after = JSON.parse((await datamill(['pool', '--server', url, '--json'], { env, cwd: ws.dir })).stdout) as PoolView;
  assert.deepEqual([after.running, after.waiting, after.inUse], [[], [], { cpus: 0, memoryBytes: 0 }], 'every lease given back');
});

test('exec --server runs the container on the server and exits with its code', { skip }, async (t) => {
  const ws = serveWorkspace();
  const env = { DATAMILL_HOME: ws.home };
  const serve = startServe(ws.dir, ['--jobs', ws.jobs], env);
  t.after(() => serve.stop());
  const url = await serve.apiUrl();
  const r = await datamill(['exec', '--server', url, '--image', SMALL_IMAGE, '--', 'sh', '-c', 'echo via-server; echo oops >&2; exit 7'], { env, cwd: ws.dir });
  assert.equal(r.code, 7, r.stderr);
  assert.equal(r.stdout, 'via-server\n');
  assert.match(r.stderr, /oops\n/);
  const runId = /run (\S+) failed \(exit code 7\)/.exec(r.stderr)![1]!;
  const record = (await (await fetch(`${url}/api/runs/${runId}`)).json()) as { run: { trigger: string; figures: { exit_code: number } } };
  assert.equal(record.run.trigger, 'exec');
  assert.equal(record.run.figures.exit_code, 7);
  assert.deepEqual(await containersLabelled({ 'datamill.run': runId }), []);
});
