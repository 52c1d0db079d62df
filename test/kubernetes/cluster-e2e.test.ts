import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TaskSpec } from '../../src/runtime/executor.js';
import { createKubernetesExecutor, reapOrphanStageJobs } from '../../src/runtime/kubernetes/index.js';
import type { JobSpec } from '../../src/spec/job-schema.js';

/**
 * Opt-in: against a real cluster when KUBECONFIG is set (the current context; DATAMILL_K8S_NAMESPACE and
 * DATAMILL_K8S_IMAGE override the namespace and the Datamill image the nodes can pull). It creates Jobs
 * labelled app.kubernetes.io/managed-by=datamill with run ids of its own, and deletes only those.
 */
const cluster = process.env.KUBECONFIG;
const skip = cluster ? false : 'KUBECONFIG is not set: the end-to-end test against a real Kubernetes cluster is skipped (the stand-in tests ran instead)';
const image = process.env.DATAMILL_K8S_IMAGE ?? 'datamill:latest';
const namespace = process.env.DATAMILL_K8S_NAMESPACE;
const run = `e2e-${randomBytes(4).toString('hex')}`;

function task(stage: TaskSpec['stage'], args: string[], lines: string[]): TaskSpec {
  return { run, stage, attempt: 1, args, env: { DATAMILL_E2E: '1' }, resources: { cpus: 0.1, memoryBytes: 128 * 1024 ** 2 }, timeoutMs: 300_000, onLine: (l) => lines.push(l) };
}

const spec = { job: 'e2e', tenant: 'default', image, kubernetes: { ttl: 600, ...(namespace ? { namespace } : {}) } } as unknown as JobSpec;

test('on a real cluster: a stage Job runs in the Datamill image, its log arrives, its exit code is read, and it is deleted', { skip, timeout: 600_000 }, async () => {
  const executor = createKubernetesExecutor(spec);
  const ok: string[] = [];
  const exit = await (await executor.start(task('extract', ['--help'], ok))).wait();
  assert.equal(exit.code, 0, ok.join('\n'));
  assert.ok(ok.some((l) => l.includes('Usage: datamill')));
  const bad: string[] = [];
  const failed = await (await executor.start(task('adapt', ['stage'], bad))).wait();
  assert.equal(failed.code, 2);
  assert.ok(bad.some((l) => l.startsWith('usage: datamill stage')));
});

test('on a real cluster: cancelling a stage deletes its Job, and the reaper finds nothing of this run left', { skip, timeout: 600_000 }, async () => {
  const executor = createKubernetesExecutor(spec);
  const handle = await executor.start(task('load', ['--help'], []));
  handle.cancel();
  assert.equal((await handle.wait()).cancelled, true);
  const reaped = await reapOrphanStageJobs({ ...(namespace ? { namespace } : {}), isLive: (j) => j.run !== run });
  assert.deepEqual(reaped, []);
});
