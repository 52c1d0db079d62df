import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { createKubernetesExecutor } from '../../src/runtime/kubernetes/index.js';
import { runJob } from '../../src/runtime/run-job.js';
import { loadJobOrThrow } from '../../src/spec/load-job.js';
import { SqliteStateStore } from '../../src/state/sqlite-store.js';
import { workspace } from '../support/cli.js';
import { testDatabase } from '../support/database.js';
import { standin } from '../support/kube-standin/standin-fixture.js';
import type { KubeStandin } from '../support/kube-standin/standin-server.js';
import { siteStatsJob, writeEvents } from '../engine/events-fixture.js';
import { expectedSiteStats } from '../engine/site-stats-sql.js';

let k8s: KubeStandin;
before(async () => (k8s = await standin()));
after(() => k8s.close());

const FAST = { pollIntervalMs: 50, usageIntervalMs: 200, startFailureGraceMs: 0, deleteWaitMs: 10_000 };

/**
 * The example job with every stage a Job on the stand-in: the pods run the real `datamill stage`, read
 * the warehouse URL from a Secret (env_from_secrets) and the buffer through a mounted claim.
 * (`executor: kubernetes` is not written in the job: choosing the executor from the spec is wired elsewhere;
 * here the executor is handed to the runtime directly.)
 */
async function setup(extra: string) {
  const db = await testDatabase();
  const ws = workspace();
  const events = writeEvents(ws.dir, 'events-1.csv', { rows: 1500, bad: 2 });
  const secret = `warehouse-${db.name.replace(/_/g, '-')}`;
  await k8s.kubeConfig().makeApiClient(CoreV1Api).createNamespacedSecret({ namespace: 'datamill', body: { metadata: { name: secret }, stringData: { WAREHOUSE_URL: db.url } } });
  const file = ws.write('job.yaml', siteStatsJob({ mode: 'upsert', extra: `image: datamill:test\nkubernetes:\n  env_from_secrets: [${secret}]\n  mounts: [{ claim: datamill-buffer, path: "${ws.dir}" }]\n${extra}` }));
  const job = loadJobOrThrow(file);
  const store = new SqliteStateStore(join(ws.home, 'state.db'));
  return { db, ws, events, job, store };
}

test('the example job runs with every stage as a Kubernetes Job and loads what the same SQL computes', async (t) => {
  const { db, ws, events, job, store } = await setup('');
  t.after(() => db.drop());
  t.after(() => store.close());
  const executor = createKubernetesExecutor(job.spec, { kubeConfig: k8s.kubeConfig(), timing: FAST });
  const cwd = process.cwd();
  process.chdir(ws.dir);
  const run = await runJob(job, { store, executor, home: ws.home }).finally(() => process.chdir(cwd));
  assert.equal(run.status, 'succeeded', JSON.stringify(run.error));
  const rows = await db.query(`SELECT day::text, site_id::text, views::text, clicks::text, events::text FROM analytics.site_stats ORDER BY 1, 2`);
  assert.deepEqual(rows, await expectedSiteStats(db, [events.path]));
  const attempts = await store.listAttempts(run.id);
  assert.deepEqual(attempts.map((a) => `${a.stage}:${a.status}:${a.executor}`), ['extract:succeeded:kubernetes', 'adapt:succeeded:kubernetes', 'transform:succeeded:kubernetes', 'load:succeeded:kubernetes']);
  assert.ok(attempts.every((a) => a.taskId?.startsWith('datamill/dm-') && (a.peakRssBytes ?? 0) > 0));
  const posted = k8s.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/jobs') && JSON.stringify(r.body).includes(run.id.toLowerCase()));
  assert.equal(posted.length, 4, 'one Job per stage attempt');
  assert.ok(!posted.some((r) => JSON.stringify(r.body).includes(db.url)), 'the warehouse URL is never in a Job object');
  assert.equal(k8s.cluster.list(k8s.cluster.jobs, 'datamill', `datamill.run=${run.id}`).length, 0, 'every stage Job is deleted once done');
});

test('a stage over its memory limit in the cluster fails the run as OutOfMemory, without retrying it', async (t) => {
  const { db, ws, job, store } = await setup('');
  t.after(() => db.drop());
  t.after(() => store.close());
  (job.spec.extract as { resources?: unknown }).resources = { cpus: 1, memory: '24Mi' };
  const executor = createKubernetesExecutor(job.spec, { kubeConfig: k8s.kubeConfig(), timing: FAST });
  const cwd = process.cwd();
  process.chdir(ws.dir);
  const run = await runJob(job, { store, executor, home: ws.home }).finally(() => process.chdir(cwd));
  assert.equal(run.status, 'failed');
  assert.equal(run.error?.name, 'OutOfMemory');
  assert.match(run.error!.message, /extract was killed for using more memory than its limit \(24\.0 MiB/);
  assert.equal((await store.listAttempts(run.id)).length, 1, 'an OOM is not retried');
});
