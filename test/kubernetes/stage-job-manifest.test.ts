import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { stageEnvSecret, stageJobManifest, stageJobName, type StageJobInput } from '../../src/runtime/kubernetes/stage-job-manifest.js';
import { kubernetesSchema } from '../../src/runtime/kubernetes/kubernetes-schema.js';
import { stageArgs } from '../../src/runtime/stage-attempt.js';
import type { RunRecord } from '../../src/state/store.js';
import { kubernetesObjectProblems } from '../support/kube-standin/object-schemas.js';

const run = { id: '20261201T101010Z-a1b2c3', job: 'site-stats', tenant: 'analytics', buffer: 's3://bucket/stages' } as RunRecord;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function input(kubernetes: unknown, extra: Partial<StageJobInput['task']> = {}, image?: string): StageJobInput {
  return {
    spec: { job: 'site-stats', tenant: 'analytics', ...(image ? { image } : {}), kubernetes: kubernetesSchema.parse(kubernetes) },
    task: { run: run.id, stage: 'transform', attempt: 2, args: stageArgs(run, '/jobs', 'transform', 2), env: {}, resources: { cpus: 1, memoryBytes: 512 * 1024 ** 2 }, timeoutMs: null, ...extra },
    runner: 'datamill-7d9f8-x2k4p:1',
    namespace: 'datamill',
  };
}

const CASES: Array<[string, StageJobInput]> = [
  ['the defaults', input({})],
  ['every kubernetes option', input({
    namespace: 'etl', service_account: 'datamill-stage', node_selector: { 'kubernetes.io/arch': 'amd64', pool: 'batch' }, ttl: '1h', image_pull_policy: 'IfNotPresent',
    image_pull_secrets: ['registry'], env_from_secrets: ['warehouse', 'aws'], labels: { team: 'data' }, annotations: { 'cluster-autoscaler.kubernetes.io/safe-to-evict': 'false' },
    command: ['node', '/app/dist/src/cli/main.js'],
    mounts: [{ claim: 'datamill-buffer', path: '/var/lib/datamill/buffer' }, { claim: 'inputs', path: '/data', read_only: true }, { secret: 'certs', path: '/etc/certs' }, { config_map: 'datamill-jobs', path: '/jobs' }],
  }, {}, 'registry.example/datamill:0.1.0')],
  ['a timeout, fractional CPUs, odd memory and an environment', input({}, { timeoutMs: 90_500, resources: { cpus: 0.25, memoryBytes: 300_000_001 }, env: { AWS_SECRET_ACCESS_KEY: 'x' } })],
  ['a long run id', input({}, { run: `${run.id}-with-a-much-longer-suffix-than-usual-0123456789`, stage: 'extract' })],
];

for (const [what, i] of CASES) {
  test(`the stage Job for ${what} is valid against the official Kubernetes schemas`, () => {
    const job = stageJobManifest(i);
    assert.deepEqual(kubernetesObjectProblems(job as never), []);
    const secret = stageEnvSecret(i);
    if (secret) assert.deepEqual(kubernetesObjectProblems(secret as never), []);
    const name = job.metadata!.name!;
    assert.match(name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    assert.ok(name.length <= 63);
    for (const [k, v] of Object.entries(job.metadata!.labels!)) assert.match(v, LABEL_VALUE, `label ${k}`);
  });
}

test('the schema check catches what the API server would refuse (so a passing check means something)', () => {
  const job = stageJobManifest(input({})) as unknown as { spec: Record<string, unknown> };
  assert.match(kubernetesObjectProblems({ ...job, spec: { ...job.spec, ttlSecondAfterFinished: 5 } } as never).join(), /spec\.ttlSecondAfterFinished: unknown field/);
  assert.match(kubernetesObjectProblems({ ...job, spec: { ...job.spec, backoffLimit: '0' } } as never).join(), /backoffLimit must be integer/);
});

test('stage Job names stay DNS labels that tell stages and attempts apart, however long the run id', () => {
  const long = `${run.id}-with-a-much-longer-suffix-than-usual-0123456789`;
  const names = ['extract', 'load'].flatMap((stage) => [1, 12].map((attempt) => stageJobName({ run: long, stage: stage as 'load', attempt })));
  assert.equal(new Set(names).size, 4);
  for (const n of names) assert.ok(n.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n), n);
  assert.equal(stageJobName({ run: run.id, stage: 'load', attempt: 3 }), 'dm-20261201t101010z-a1b2c3-load-3');
});

test('a stage Job asks for what the stage asks for, never retries by itself, and runs locked down', () => {
  const job = stageJobManifest(input({}, { timeoutMs: 90_500, resources: { cpus: 0.25, memoryBytes: 768 * 1024 ** 2 } }));
  const pod = job.spec!.template.spec!;
  const c = pod.containers[0]!;
  assert.deepEqual(c.resources, { requests: { cpu: '250m', memory: '768Mi' }, limits: { cpu: '250m', memory: '768Mi' } });
  assert.equal(job.spec!.backoffLimit, 0);
  assert.equal(job.spec!.activeDeadlineSeconds, 91);
  assert.equal(job.spec!.ttlSecondsAfterFinished, 600);
  assert.equal(pod.restartPolicy, 'Never');
  assert.equal(pod.automountServiceAccountToken, false);
  assert.deepEqual(c.args, ['stage', '--buffer', 's3://bucket/stages', '--base-dir', '/jobs', '--tenant', 'analytics', '--job', 'site-stats', '--run', run.id, '--stage', 'transform', '--attempt', '2']);
  assert.equal(c.image, 'datamill:latest');
  assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
  assert.equal(c.securityContext?.runAsNonRoot, true);
  assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
  assert.deepEqual(c.volumeMounts?.find((m) => m.mountPath === '/tmp'), { name: 'tmp', mountPath: '/tmp' });
  assert.deepEqual(pod.volumes?.find((v) => v.name === 'tmp'), { name: 'tmp', emptyDir: {} });
  assert.deepEqual(job.metadata!.labels, {
    'app.kubernetes.io/managed-by': 'datamill', 'datamill.run': run.id, 'datamill.stage': 'transform', 'datamill.attempt': '2', 'datamill.job': 'site-stats',
    'datamill.tenant': 'analytics', 'datamill.task': stageJobName({ run: run.id, stage: 'transform', attempt: 2 }), 'datamill.runner': 'datamill-7d9f8-x2k4p_1',
  });
  assert.deepEqual(job.spec!.template.metadata!.labels, job.metadata!.labels, 'pods carry the same labels (logs and reaping select on them)');
});

test('environment values go into a Secret that the container reads with envFrom; the Job holds only its name', () => {
  const i = input({ env_from_secrets: ['warehouse'] }, { env: { AWS_SECRET_ACCESS_KEY: 'do-not-show' } });
  const job = stageJobManifest(i);
  assert.ok(!JSON.stringify(job).includes('do-not-show'));
  assert.deepEqual(job.spec!.template.spec!.containers[0]!.envFrom, [{ secretRef: { name: 'warehouse' } }, { secretRef: { name: `${job.metadata!.name}-env` } }]);
  assert.deepEqual(stageEnvSecret(i)!.stringData, { AWS_SECRET_ACCESS_KEY: 'do-not-show' });
  assert.equal(stageEnvSecret(input({})), null, 'no Secret when there is nothing to hand in');
});

test('a file buffer is reachable only under a claim mounted at the runner\'s path', async () => {
  const { checkBufferReachable } = await import('../../src/runtime/kubernetes/stage-job-manifest.js');
  const args = ['stage', '--buffer', pathToFileURL('/var/lib/datamill/buffer').href];
  assert.doesNotThrow(() => checkBufferReachable(args, kubernetesSchema.parse({ mounts: [{ claim: 'b', path: '/var/lib/datamill' }] })));
  assert.throws(() => checkBufferReachable(args, kubernetesSchema.parse({ mounts: [{ claim: 'b', path: '/var/lib/datamill/buf' }] })), /cannot reach the file buffer/);
  assert.throws(() => checkBufferReachable(args, kubernetesSchema.parse({ mounts: [{ secret: 'b', path: '/var/lib/datamill' }] })), /cannot reach the file buffer/);
  assert.doesNotThrow(() => checkBufferReachable(['stage', '--buffer', 's3://b/p'], undefined));
});
