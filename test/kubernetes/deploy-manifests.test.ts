import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { createKubernetesExecutor, reapOrphanStageJobs } from '../../src/runtime/kubernetes/index.js';
import type { JobSpec } from '../../src/spec/job-schema.js';
import { parseJob } from '../../src/spec/load-job.js';
import { repoRoot } from '../support/paths.js';
import { kubernetesObjectProblems } from '../support/kube-standin/object-schemas.js';
import { standin } from '../support/kube-standin/standin-fixture.js';

const dir = join(repoRoot(), 'deploy/kubernetes');
interface Obj { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown }
type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };

function load(file: string): Obj[] {
  return parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => d.toJS() as Obj).filter(Boolean);
}

const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as { namespace: string; resources: string[] };
const objects = kustomization.resources.flatMap(load);
const find = <T = Obj>(kind: string) => objects.find((o) => o.kind === kind) as unknown as T;

test('every manifest the kustomization applies is valid against the official Kubernetes schemas', () => {
  assert.ok(kustomization.resources.length >= 7);
  for (const o of [...objects, ...load('secrets.example.yaml')]) assert.deepEqual(kubernetesObjectProblems(o), [], `${o.kind} ${o.metadata.name}`);
  assert.deepEqual(objects.map((o) => o.kind).sort(), ['ConfigMap', 'Deployment', 'Namespace', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
});

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

test('`kubectl kustomize` renders the kustomization into valid objects in the datamill namespace, with the image tag set', { skip: kubectl ? false : 'kubectl is not installed: the rendered kustomization is not checked' }, () => {
  const out = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const rendered = parseAllDocuments(out.stdout).map((d) => d.toJS() as Obj);
  assert.equal(rendered.length, objects.length);
  for (const o of rendered) {
    assert.deepEqual(kubernetesObjectProblems(o), [], `${o.kind} ${o.metadata.name}`);
    if (o.kind !== 'Namespace') assert.equal(o.metadata.namespace, 'datamill');
  }
  const d = rendered.find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: { containers: Array<{ image: string }> } } } };
  assert.equal(d.spec.template.spec.containers[0]!.image, 'datamill:latest');
});

test('the Deployment runs `datamill serve` on the jobs ConfigMap, with PostgreSQL state from a Secret and health probes', () => {
  const d = find<{ spec: { template: { metadata: { labels: Record<string, string> }; spec: { serviceAccountName: string; volumes: Array<{ name: string; configMap?: { name: string } }>; containers: Array<{ args: string[]; env: Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string } } }>; readinessProbe: { httpGet: { path: string; port: string } }; livenessProbe: { httpGet: { path: string } }; ports: Array<{ name: string; containerPort: number }>; volumeMounts: Array<{ name: string; mountPath: string }> }> } } } }>('Deployment');
  const pod = d.spec.template.spec;
  const c = pod.containers[0]!;
  assert.deepEqual(c.args, ['serve', '--jobs', '/jobs', '--port', '8080']);
  assert.equal(c.env.find((e) => e.name === 'DATAMILL_STATE_URL')?.valueFrom?.secretKeyRef?.name, 'datamill-state');
  assert.equal(c.readinessProbe.httpGet.path, '/api/health');
  assert.equal(c.livenessProbe.httpGet.path, '/api/health');
  assert.equal(c.ports.find((p) => p.name === c.readinessProbe.httpGet.port)?.containerPort, 8080);
  const jobsVolume = pod.volumes.find((v) => v.name === c.volumeMounts.find((m) => m.mountPath === '/jobs')?.name);
  assert.equal(jobsVolume?.configMap?.name, find('ConfigMap').metadata.name);
  assert.equal(pod.serviceAccountName, find('ServiceAccount').metadata.name);
  const binding = find<{ roleRef: { name: string }; subjects: Array<{ kind: string; name: string; namespace: string }> }>('RoleBinding');
  assert.equal(binding.roleRef.name, find('Role').metadata.name);
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: pod.serviceAccountName, namespace: kustomization.namespace }]);
  const service = find<{ spec: { selector: Record<string, string>; ports: Array<{ targetPort: string }> } }>('Service');
  for (const [k, v] of Object.entries(service.spec.selector)) assert.equal(d.spec.template.metadata.labels[k], v);
  assert.ok(c.ports.some((p) => p.name === service.spec.ports[0]!.targetPort));
});

test('the jobs in the ConfigMap are valid job files whose stage pods can reach their inputs', () => {
  const cm = find<{ data: Record<string, string> }>('ConfigMap');
  const jobs = Object.entries(cm.data).filter(([k]) => k.endsWith('.yaml'));
  assert.ok(jobs.length >= 1);
  for (const [name, text] of jobs) {
    const { job, problems } = parseJob(text, `/jobs/${name}`, '/jobs', {});
    assert.deepEqual(problems, [], name);
    assert.equal(job!.spec.executor, 'kubernetes');
    assert.ok(job!.spec.buffer.startsWith('s3://'), 'stage pods reach an s3 buffer on their own');
    assert.ok(job!.spec.kubernetes?.mounts?.some((m) => 'config_map' in m && m.config_map === 'datamill-jobs' && m.path === '/jobs'));
    const pattern = new RegExp(`^${String(job!.spec.extract.path).replace(/\./g, '\\.').replace(/\*/g, '.*')}$`);
    assert.ok(Object.keys(cm.data).some((k) => pattern.test(k)), 'the input file is in the ConfigMap too');
  }
});

function allowed(rules: Rule[], group: string, resource: string, verb: string): boolean {
  return rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));
}

test('the Role allows every API call the executor and the reaper make (as recorded on the stand-in), and nothing cluster-wide', async () => {
  const k8s = await standin();
  try {
    const spec = { job: 'rbac', tenant: 'default', image: 'node:test', kubernetes: { ttl: '1m' } } as unknown as JobSpec;
    const lines: string[] = [];
    const exec = createKubernetesExecutor(spec, { kubeConfig: k8s.kubeConfig(), timing: { pollIntervalMs: 50, usageIntervalMs: 50 } });
    const h = await exec.start({ run: '20261201T000000Z-abcdef', stage: 'load', attempt: 1, args: ['-e', 'setTimeout(() => console.log("done"), 300)'], env: { K: 'v' }, resources: { cpus: 1, memoryBytes: 128 * 1024 ** 2 }, timeoutMs: null, onLine: (l) => lines.push(l) });
    assert.equal((await h.wait()).code, 0);
    const c = await exec.start({ run: '20261201T000000Z-abcdef', stage: 'load', attempt: 2, args: ['-e', 'setInterval(() => {}, 1000)'], env: {}, resources: { cpus: 1, memoryBytes: 128 * 1024 ** 2 }, timeoutMs: null, onLine: () => undefined });
    c.cancel();
    await c.wait();
    await reapOrphanStageJobs({ kubeConfig: k8s.kubeConfig(), isLive: () => false });
    const rules = find<{ rules: Rule[] }>('Role').rules;
    const calls = new Set<string>();
    for (const r of k8s.requests) {
      const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/namespaces\/[^/]+\/([^/]+)(\/[^/]+)?(\/log)?$/.exec(r.path)!;
      const group = m[1] === 'batch' || m[1] === 'metrics.k8s.io' ? m[1] : '';
      const resource = m[2]! + (m[4] ? '/log' : '');
      const verb = r.method === 'POST' ? 'create' : r.method === 'DELETE' ? 'delete' : m[3] ? 'get' : 'list';
      calls.add(`${group}/${resource}:${verb}`);
    }
    for (const call of ['batch/jobs:create', 'batch/jobs:get', 'batch/jobs:delete', 'batch/jobs:list', '/pods:list', '/pods/log:get', '/secrets:create', '/secrets:delete', '/secrets:list', 'metrics.k8s.io/pods:get']) assert.ok(calls.has(call), `the executor made ${call}`);
    for (const call of calls) {
      const [group, rest] = call.split('/', 2) as [string, string];
      const [resource, verb] = (call.slice(group.length + 1)).split(':') as [string, string];
      assert.ok(allowed(rules, group, resource, verb), `the Role allows ${call} (${rest})`);
    }
    assert.ok(!objects.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding'));
  } finally {
    await k8s.close();
  }
});

test('docker-compose.yml runs `datamill serve` on PostgreSQL state, with the example jobs and a health check', () => {
  const deploy = join(repoRoot(), 'deploy');
  const compose = parse(readFileSync(join(deploy, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { image: string; build?: { context: string; dockerfile: string }; command?: string[]; environment?: Record<string, string>; volumes?: string[]; depends_on?: Record<string, { condition: string }>; healthcheck?: { test: string[] } }>;
    volumes: Record<string, unknown>;
  };
  const { datamill, postgres } = compose.services;
  assert.ok(datamill && postgres);
  assert.equal(datamill.image, 'datamill:latest');
  assert.ok(existsSync(join(deploy, datamill.build!.context, datamill.build!.dockerfile)), 'builds from the repository Dockerfile');
  assert.deepEqual(datamill.command!.filter((a) => !a.startsWith('/')), ['serve', '--jobs', '--port', '8080']);
  const jobsDir = datamill.command![datamill.command!.indexOf('--jobs') + 1]!;
  const mount = datamill.volumes!.map((v) => v.split(':')).filter(([, target]) => jobsDir.startsWith(target!)).sort((a, b) => b[1]!.length - a[1]!.length)[0]!;
  assert.ok(existsSync(join(deploy, mount[0]!, jobsDir.slice(mount[1]!.length), 'site-stats.yaml')), 'the jobs folder serve reads holds the examples');
  const pg = postgres.environment!;
  const password = pg.POSTGRES_PASSWORD!;
  assert.equal(datamill.environment!.DATAMILL_STATE_URL, `postgres://${pg.POSTGRES_USER}:${password}@postgres:5432/${pg.POSTGRES_DB}`);
  assert.equal(datamill.depends_on!.postgres!.condition, 'service_healthy');
  assert.ok(postgres.healthcheck && datamill.healthcheck!.test.join(' ').includes('/api/health'));
  for (const v of [...datamill.volumes!, ...(postgres.volumes ?? [])].map((x) => x.split(':')[0]!)) assert.ok(v.startsWith('.') || v in compose.volumes, `volume ${v} is declared`);
});
