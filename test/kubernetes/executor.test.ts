import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import type { TaskSpec } from '../../src/runtime/executor.js';
import { createKubernetesExecutor, reapOrphanStageJobs } from '../../src/runtime/kubernetes/index.js';
import type { JobSpec } from '../../src/spec/job-schema.js';
import { standin } from '../support/kube-standin/standin-fixture.js';
import type { KubeStandin } from '../support/kube-standin/standin-server.js';

let k8s: KubeStandin;
before(async () => (k8s = await standin()));
after(() => k8s.close());

const FAST = { pollIntervalMs: 50, usageIntervalMs: 100, startFailureGraceMs: 0, deleteWaitMs: 10_000 };
const spec = (extra: Partial<JobSpec> = {}) => ({ job: 'site-stats', tenant: 'analytics', image: 'node:test', kubernetes: { ttl: '10m' }, ...extra }) as unknown as JobSpec;
let runs = 0;

/** A task whose "stage" is a Node script (the node:test image's entrypoint is `node`). */
function scripted(script: string, extra: Partial<TaskSpec> = {}): TaskSpec & { lines: string[] } {
  const lines: string[] = [];
  return { run: `20261201T101010Z-${(++runs).toString(16).padStart(6, '0')}`, stage: 'extract', attempt: 1, args: ['-e', script], env: {}, resources: { cpus: 0.5, memoryBytes: 256 * 1024 ** 2 }, timeoutMs: null, onLine: (l) => lines.push(l), lines, ...extra };
}

const stageLines = (lines: string[]) => lines.filter((l) => !l.includes('"executor":"kubernetes"'));
const executor = (s = spec(), runner?: string) => createKubernetesExecutor(s, { kubeConfig: k8s.kubeConfig(), timing: FAST, ...(runner ? { runner } : {}) });

test('a stage Job runs to success: its log lines arrive in order, the exit code is the container\'s, and the Job is deleted after', async () => {
  const task = scripted(`for (let i = 1; i <= 200; i++) console.log(JSON.stringify({ level: 'info', message: 'line ' + i })); console.error('to stderr'); console.log('{"type":"result","ok":true}')`);
  const handle = await executor().start(task);
  const exit = await handle.wait();
  assert.equal(exit.code, 0);
  assert.equal(exit.failure, undefined);
  const out = stageLines(task.lines);
  assert.equal(out.length, 202);
  const numbered = out.filter((l) => l.includes('"line ')).map((l) => JSON.parse(l).message as string);
  assert.deepEqual(numbered, Array.from({ length: 200 }, (_, i) => `line ${i + 1}`), 'stdout lines keep their order');
  assert.ok(out.includes('to stderr'), 'stderr is part of the pod log');
  assert.ok(out.includes('{"type":"result","ok":true}'), 'the result line is delivered before wait() resolves');
  assert.ok(task.lines.some((l) => /stage Job datamill\/dm-.*-extract-1 created/.test(l)));
  const created = k8s.requests.find((r) => r.method === 'POST' && r.path.endsWith('/jobs') && JSON.stringify(r.body).includes(task.run.toLowerCase()))!.body as { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> };
  assert.equal(created.metadata.labels['datamill.run'], task.run);
  assert.equal(created.metadata.labels['datamill.tenant'], 'analytics');
  assert.equal(created.spec.backoffLimit, 0);
  assert.equal(created.spec.ttlSecondsAfterFinished, 600);
  assert.equal(k8s.cluster.list(k8s.cluster.jobs, 'datamill', `datamill.run=${task.run}`).length, 0, 'the finished Job is deleted');
  assert.equal(k8s.cluster.list(k8s.cluster.pods, 'datamill', `datamill.run=${task.run}`).length, 0, 'and its pod with it');
});

test('a stage that fails reports the container\'s exit code and no executor failure', async () => {
  const task = scripted(`console.log('{"type":"result","ok":false,"error":{"name":"SourceError","message":"no file","retryable":false}}'); process.exit(1)`);
  const exit = await (await executor().start(task)).wait();
  assert.equal(exit.code, 1);
  assert.equal(exit.failure, undefined);
  assert.match(stageLines(task.lines).at(-1)!, /SourceError/);
});

test('a stage over its memory limit is OOMKilled and fails as OutOfMemory naming the limit, not retryable', async () => {
  const task = scripted(`const keep = []; for (;;) keep.push(Buffer.alloc(4e6, 1))`, { resources: { cpus: 1, memoryBytes: 96 * 1024 ** 2 } });
  const exit = await (await executor().start(task)).wait();
  assert.equal(exit.code, 137);
  assert.equal(exit.signal, 'SIGKILL');
  assert.equal(exit.failure?.name, 'OutOfMemory');
  assert.equal(exit.failure?.retryable, false);
  assert.match(exit.failure!.message, /extract was killed for using more memory than its limit \(96\.0 MiB, limits\.memory 96Mi\)/);
});

test('cancel deletes the Job with Background propagation, which stops the running stage', async () => {
  const task = scripted(`console.log('started'); setInterval(() => {}, 1000)`);
  const handle = await executor().start(task);
  while (!task.lines.includes('started')) await sleep(20);
  handle.cancel();
  const exit = await handle.wait();
  assert.equal(exit.cancelled, true);
  const del = k8s.requests.find((r) => r.method === 'DELETE' && r.path.endsWith(handle.id.split('/')[1]!));
  assert.equal(del?.query.get('propagationPolicy'), 'Background');
  assert.equal(k8s.cluster.list(k8s.cluster.pods, 'datamill', `datamill.run=${task.run}`).length, 0, 'the pod is gone');
  assert.ok([...k8s.cluster.processes.values()].every((p) => p.exit !== null), 'no stage process is left running');
});

test('a stage past its timeout is stopped and reported as timed out; the Job carries activeDeadlineSeconds as a backstop', async () => {
  const task = scripted(`setInterval(() => {}, 1000)`, { timeoutMs: 800 });
  const handle = await executor().start(task);
  const exit = await handle.wait();
  assert.equal(exit.timedOut, true);
  const created = k8s.requests.find((r) => r.method === 'POST' && JSON.stringify(r.body).includes(task.run.toLowerCase()))!.body as { spec: { activeDeadlineSeconds: number } };
  assert.equal(created.spec.activeDeadlineSeconds, 1);
});

test('an image that cannot be pulled fails the attempt as ImagePullError, not retryable', async () => {
  const task = scripted('0');
  const exit = await (await executor(spec({ image: 'registry.example/missing:1' } as Partial<JobSpec>))).start(task).then((h) => h.wait());
  assert.equal(exit.failure?.name, 'ImagePullError');
  assert.equal(exit.failure?.retryable, false);
  assert.match(exit.failure!.message, /registry\.example\/missing:1/);
});

test('task environment reaches the pod through a Secret of its own: the Job object never holds the value', async () => {
  const task = scripted(`console.log('token=' + process.env.API_TOKEN)`, { env: { API_TOKEN: 'very-secret-value' } });
  const exit = await (await executor().start(task)).wait();
  assert.equal(exit.code, 0);
  assert.ok(task.lines.includes('token=very-secret-value'));
  const jobPost = k8s.requests.find((r) => r.method === 'POST' && r.path.endsWith('/jobs') && JSON.stringify(r.body).includes(task.run.toLowerCase()))!;
  assert.ok(!JSON.stringify(jobPost.body).includes('very-secret-value'));
  assert.equal(k8s.cluster.list(k8s.cluster.secrets, 'datamill', `datamill.run=${task.run}`).length, 0, 'the env Secret is deleted with the Job');
});

test('user Secrets named in kubernetes.env_from_secrets become the stage\'s environment (where ${env:…} is resolved)', async () => {
  const kc = k8s.kubeConfig();
  const { CoreV1Api } = await import('@kubernetes/client-node');
  await kc.makeApiClient(CoreV1Api).createNamespacedSecret({ namespace: 'datamill', body: { metadata: { name: 'warehouse' }, stringData: { WAREHOUSE_URL: 'postgres://w' } } });
  const task = scripted(`console.log(process.env.WAREHOUSE_URL)`);
  await (await executor(spec({ kubernetes: { ttl: '1m', env_from_secrets: ['warehouse'] } } as Partial<JobSpec>)).start(task)).wait();
  assert.ok(task.lines.includes('postgres://w'));
});

test('a file buffer no claim mounts is refused before anything is created, naming the fix', async () => {
  const task = scripted('0', { args: ['stage', '--buffer', pathToFileURL('/srv/buffer').href, '--stage', 'extract'] });
  const before = k8s.requests.length;
  const exit = await (await executor(spec({ kubernetes: { ttl: '1m', mounts: [{ claim: 'data', path: '/data', read_only: false }] } } as Partial<JobSpec>)).start(task)).wait();
  assert.equal(exit.failure?.name, 'SpecError');
  assert.match(exit.failure!.message, /cannot reach the file buffer \/srv\/buffer: mount a PersistentVolumeClaim/);
  assert.equal(k8s.requests.length, before);
});

test('a namespace that does not exist fails the attempt with the API\'s reason', async () => {
  const exit = await (await createKubernetesExecutor(spec(), { kubeConfig: k8s.kubeConfig(), namespace: 'nowhere', timing: FAST }).start(scripted('0'))).wait();
  assert.equal(exit.failure?.name, 'KubernetesError');
  assert.match(exit.failure!.message, /Kubernetes answered 404: namespaces "nowhere" not found/);
  assert.equal(exit.failure?.retryable, false);
});

test('a stage Job deleted from outside Datamill fails the attempt as retryable', async () => {
  const task = scripted(`console.log('started'); setInterval(() => {}, 1000)`);
  const handle = await executor().start(task);
  while (!task.lines.includes('started')) await sleep(20);
  k8s.cluster.deleteJob('datamill', handle.id.split('/')[1]!, 'Background');
  const exit = await handle.wait();
  assert.equal(exit.failure?.retryable, true);
  assert.match(exit.failure!.name, /StageJobDeleted|PodFailed/);
});

test('CPU and memory of a running stage are sampled from the metrics API', async () => {
  const task = scripted(`const keep = Buffer.alloc(60e6, 1); const end = Date.now() + 1200; while (Date.now() < end) {} console.log(keep.length)`);
  const exit = await (await executor().start(task)).wait();
  assert.equal(exit.code, 0);
  assert.ok((exit.usage.peakRssBytes ?? 0) > 60e6, `peak ${exit.usage.peakRssBytes}`);
  assert.ok((exit.usage.cpuSeconds ?? 0) > 0.3, `cpu ${exit.usage.cpuSeconds}`);
});

test('stage Jobs whose runner is gone are reaped with their pods; those of a live runner are kept', async () => {
  const dead = scripted(`console.log('started'); setInterval(() => {}, 1000)`);
  const live = scripted(`console.log('started'); setInterval(() => {}, 1000)`);
  // The dead runner's handle is dropped, as when its process was killed.
  await executor(spec(), 'old-host:41').start(dead);
  const liveHandle = await executor(spec(), 'new-host:42').start(live);
  while (!dead.lines.includes('started') || !live.lines.includes('started')) await sleep(20);
  const reaped = await reapOrphanStageJobs({ kubeConfig: k8s.kubeConfig(), isLive: (j) => j.runner === 'new-host_42' });
  assert.deepEqual(reaped, [`dm-${dead.run.toLowerCase()}-extract-1`]);
  while (k8s.cluster.list(k8s.cluster.pods, 'datamill', `datamill.run=${dead.run}`).length > 0) await sleep(20);
  assert.equal(k8s.cluster.list(k8s.cluster.jobs, 'datamill', `datamill.run=${live.run}`).length, 1, 'the live runner\'s Job is kept');
  liveHandle.cancel();
  assert.equal((await liveHandle.wait()).cancelled, true);
});

test('with the state store, the reaper deletes the Jobs of runs no longer running and keeps those of running runs', async () => {
  const { SqliteStateStore } = await import('../../src/state/sqlite-store.js');
  const store = new SqliteStateStore(':memory:');
  const record = (id: string, status: 'running' | 'interrupted') => ({
    id, job: 'site-stats', tenant: 'analytics', status, trigger: 'manual', jobFile: '/jobs/site-stats.yaml', buffer: 's3://b/p', params: {}, createdAt: new Date().toISOString(),
    startedAt: new Date().toISOString(), finishedAt: null, error: null, figures: {}, runner: 'serve-0:7', slot: null,
  });
  const interrupted = scripted(`console.log('started'); setInterval(() => {}, 1000)`);
  const running = scripted(`console.log('started'); setInterval(() => {}, 1000)`);
  await store.createRun(record(interrupted.run, 'interrupted'));
  await store.createRun(record(running.run, 'running'));
  await executor(spec(), 'serve-0:7').start(interrupted);
  const keep = await executor(spec(), 'serve-0:7').start(running);
  while (!interrupted.lines.includes('started') || !running.lines.includes('started')) await sleep(20);
  const reaped = await reapOrphanStageJobs({ kubeConfig: k8s.kubeConfig(), store });
  assert.deepEqual(reaped, [`dm-${interrupted.run.toLowerCase()}-extract-1`]);
  assert.equal(k8s.cluster.list(k8s.cluster.jobs, 'datamill', `datamill.run=${running.run}`).length, 1);
  keep.cancel();
  await keep.wait();
  await store.close();
});

test('a log stream the API closes while the stage runs is resumed: every line arrives once, in order', async () => {
  const { startKubeStandin } = await import('../support/kube-standin/standin-server.js');
  const { STANDIN_IMAGES } = await import('../support/kube-standin/standin-fixture.js');
  const cutting = await startKubeStandin({ images: STANDIN_IMAGES, graceScale: 0.01, cutLogFollowAfterMs: 150 });
  try {
    const task = scripted(`let i = 0; const t = setInterval(() => { for (let j = 0; j < 5; j++) console.log('n ' + ++i); if (i >= 300) clearInterval(t); }, 5)`);
    const exit = await (await createKubernetesExecutor(spec(), { kubeConfig: cutting.kubeConfig(), timing: FAST }).start(task)).wait();
    assert.equal(exit.code, 0);
    assert.deepEqual(stageLines(task.lines), Array.from({ length: 300 }, (_, i) => `n ${i + 1}`));
    const follows = cutting.requests.filter((r) => r.path.endsWith('/log')).length;
    assert.ok(follows >= 3, `the log was reopened (${follows} requests)`);
  } finally {
    await cutting.close();
  }
});
