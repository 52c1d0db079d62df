import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseQuantity } from '../../../src/runtime/kubernetes/pod-usage.js';
import { ContainerProcess } from './pod-process.js';
import { matchesSelector } from './label-selector.js';

/* The objects as the API serves them: plain JSON in the shapes of batch/v1 Job, core/v1 Pod and Secret. */
export interface Meta {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
}
interface EnvVar { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }
export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: Array<{ secretRef?: { name: string } }>;
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}
export interface PodSpec { containers: Container[]; volumes?: Array<{ name: string; emptyDir?: object }>; terminationGracePeriodSeconds?: number; [k: string]: unknown }
export interface JobObject {
  apiVersion: 'batch/v1'; kind: 'Job'; metadata: Meta;
  spec: { backoffLimit?: number; ttlSecondsAfterFinished?: number; activeDeadlineSeconds?: number; template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec } };
  status: { active?: number; succeeded?: number; failed?: number; startTime?: string; completionTime?: string; conditions?: Array<{ type: string; status: string; reason: string; message: string; lastTransitionTime: string }> };
}
export interface PodObject {
  apiVersion: 'v1'; kind: 'Pod'; metadata: Meta; spec: PodSpec;
  status: { phase: string; reason?: string; message?: string; startTime?: string; containerStatuses?: Array<{ name: string; image: string; ready: boolean; restartCount: number; state: Record<string, unknown> }> };
}
export interface SecretObject { apiVersion: 'v1'; kind: 'Secret'; metadata: Meta; type?: string; data?: Record<string, string>; stringData?: Record<string, string> }

/** What a stand-in "image" runs: its entrypoint, as a host command (the stand-in has no container runtime). */
export interface StandinImage { entrypoint: string[] }

export interface ClusterOptions {
  images: Record<string, StandinImage>;
  namespaces?: string[];
  /** Working directory of container processes (the image's WORKDIR). */
  workdir?: string;
  /** Scales terminationGracePeriodSeconds (tests need not wait 30 s for a SIGKILL). */
  graceScale?: number;
  /** Ends every follow log stream after this long, as API server and kubelet timeouts do. */
  cutLogFollowAfterMs?: number;
}

let version = 1;
const rv = () => String(version++);
const now = () => new Date().toISOString();

/** The API's view of one cluster, and the controllers that act on it: the Job controller, TTL, the kubelet. */
export class StandinCluster {
  readonly jobs = new Map<string, JobObject>();
  readonly pods = new Map<string, PodObject>();
  readonly secrets = new Map<string, SecretObject>();
  readonly processes = new Map<string, ContainerProcess>();
  readonly namespaces: Set<string>;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly scratch = mkdtempSync(join(tmpdir(), 'kube-standin-'));

  constructor(private readonly options: ClusterOptions) {
    this.namespaces = new Set(options.namespaces ?? ['default', 'datamill']);
  }

  static key(ns: string, name: string): string {
    return `${ns}/${name}`;
  }

  meta(ns: string, m: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }): Meta {
    return { ...m, namespace: ns, uid: randomUUID(), resourceVersion: rv(), creationTimestamp: now() };
  }

  list<T extends { metadata: Meta }>(map: Map<string, T>, ns: string, selector: string | null): T[] {
    return [...map.values()].filter((o) => o.metadata.namespace === ns && matchesSelector(selector, o.metadata.labels));
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** The Job controller: one pod per Job (parallelism 1, backoffLimit 0 is all Datamill uses). */
  addJob(job: JobObject): void {
    const ns = job.metadata.namespace;
    this.jobs.set(StandinCluster.key(ns, job.metadata.name), job);
    job.status = { startTime: now(), active: 1 };
    const name = `${job.metadata.name}-${randomBytes(3).toString('hex').slice(0, 5)}`;
    const labels = { ...(job.spec.template.metadata?.labels ?? {}), 'batch.kubernetes.io/job-name': job.metadata.name, 'job-name': job.metadata.name, 'controller-uid': job.metadata.uid };
    const pod: PodObject = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { ...this.meta(ns, { name, labels }), ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name, uid: job.metadata.uid, controller: true }] },
      spec: { ...job.spec.template.spec, nodeName: 'standin-node' },
      status: { phase: 'Pending', containerStatuses: job.spec.template.spec.containers.map((c) => ({ name: c.name, image: c.image, ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } })) },
    };
    this.pods.set(StandinCluster.key(ns, name), pod);
    if (job.spec.activeDeadlineSeconds) this.later(job.spec.activeDeadlineSeconds * 1000, () => this.deadline(job));
    // The kubelet picks the pod up a moment later, as a real node does.
    this.later(5, () => this.startPod(pod));
  }

  private setContainerState(pod: PodObject, state: Record<string, unknown>, phase?: string): void {
    pod.status.containerStatuses![0]!.state = state;
    if (phase) pod.status.phase = phase;
    pod.metadata.resourceVersion = rv();
  }

  private startPod(pod: PodObject): void {
    if (pod.metadata.deletionTimestamp) return;
    const c = pod.spec.containers[0]!;
    const ns = pod.metadata.namespace;
    const image = this.options.images[c.image];
    if (!image) {
      this.setContainerState(pod, { waiting: { reason: 'ErrImagePull', message: `rpc error: code = NotFound desc = failed to pull and unpack image "${c.image}": not found` } });
      this.later(50, () => pod.status.containerStatuses![0]!.state.waiting && this.setContainerState(pod, { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${c.image}"` } }));
      return;
    }
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOSTNAME: pod.metadata.name };
    const secretValue = (name: string, key?: string): Record<string, string> | string | undefined => {
      const s = this.secrets.get(StandinCluster.key(ns, name));
      if (!s) return undefined;
      const all = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
      return key === undefined ? all : all[key];
    };
    for (const from of c.envFrom ?? []) {
      if (!from.secretRef) continue;
      const values = secretValue(from.secretRef.name);
      if (values === undefined) return this.setContainerState(pod, { waiting: { reason: 'CreateContainerConfigError', message: `secret "${from.secretRef.name}" not found` } });
      Object.assign(env, values);
    }
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      const value = ref ? secretValue(ref.name, ref.key) : e.value ?? '';
      if (typeof value !== 'string') return this.setContainerState(pod, { waiting: { reason: 'CreateContainerConfigError', message: `secret "${ref?.name}" not found` } });
      env[e.name] = value;
    }
    // emptyDir volumes are per-pod host folders; claims and secrets are the host's own paths (one node).
    const emptyDirs = new Set((pod.spec.volumes ?? []).filter((v) => v.emptyDir).map((v) => v.name));
    for (const m of c.volumeMounts ?? []) {
      if (!emptyDirs.has(m.name)) continue;
      const dir = mkdtempSync(join(this.scratch, `${pod.metadata.name}-`));
      for (const [k, v] of Object.entries(env)) if (v === m.mountPath) env[k] = dir;
    }
    const limit = c.resources?.limits?.memory ? parseQuantity(c.resources.limits.memory) : null;
    const command = [...(c.command ?? image.entrypoint), ...(c.args ?? [])].map((part, i) => (i === 0 && part === 'node' ? process.execPath : part));
    const proc = new ContainerProcess(command, env, this.options.workdir ?? process.cwd(), limit);
    this.processes.set(StandinCluster.key(ns, pod.metadata.name), proc);
    pod.status.startTime = now();
    this.setContainerState(pod, { running: { startedAt: proc.startedAt.toISOString() } }, 'Running');
    void proc.exited.then(() => this.podExited(pod, proc));
  }

  private podExited(pod: PodObject, proc: ContainerProcess): void {
    const exit = proc.exit!;
    const reason = proc.oomKilled ? 'OOMKilled' : exit.code === 0 ? 'Completed' : 'Error';
    this.setContainerState(pod, { terminated: { exitCode: exit.code, reason, startedAt: proc.startedAt.toISOString(), finishedAt: exit.at.toISOString() } }, exit.code === 0 ? 'Succeeded' : 'Failed');
    if (pod.metadata.deletionTimestamp) return this.removePod(pod);
    const owner = pod.metadata.ownerReferences?.[0];
    const job = owner ? this.jobs.get(StandinCluster.key(pod.metadata.namespace, owner.name)) : undefined;
    if (!job || job.metadata.uid !== owner!.uid || job.status.conditions?.length) return;
    const ok = exit.code === 0;
    job.status = { ...job.status, active: 0, ...(ok ? { succeeded: 1, completionTime: now() } : { failed: 1 }) };
    this.finishJob(job, ok ? 'Complete' : 'Failed', ok ? '' : 'BackoffLimitExceeded', ok ? '' : 'Job has reached the specified backoff limit');
  }

  private finishJob(job: JobObject, type: string, reason: string, message: string): void {
    job.status.conditions = [{ type, status: 'True', reason, message, lastTransitionTime: now() }];
    job.metadata.resourceVersion = rv();
    const ttl = job.spec.ttlSecondsAfterFinished;
    if (ttl !== undefined) this.later(ttl * 1000, () => this.deleteJob(job.metadata.namespace, job.metadata.name, 'Background'));
  }

  /** activeDeadlineSeconds: the Job fails as DeadlineExceeded and its running pods are deleted. */
  private deadline(job: JobObject): void {
    if (job.status.conditions?.length || this.jobs.get(StandinCluster.key(job.metadata.namespace, job.metadata.name)) !== job) return;
    job.status = { ...job.status, active: 0, failed: 1 };
    this.finishJob(job, 'Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline');
    for (const pod of this.podsOf(job)) this.deletePod(pod);
  }

  private podsOf(job: JobObject): PodObject[] {
    return [...this.pods.values()].filter((p) => p.metadata.ownerReferences?.some((o) => o.uid === job.metadata.uid));
  }

  /** Deletes a Job; its pods go too only with propagationPolicy Background or Foreground (batch/v1's default orphans them). */
  deleteJob(ns: string, name: string, propagation: string | undefined): boolean {
    const job = this.jobs.get(StandinCluster.key(ns, name));
    if (!job) return false;
    this.jobs.delete(StandinCluster.key(ns, name));
    for (const pod of this.podsOf(job)) {
      if (propagation === 'Background' || propagation === 'Foreground') this.deletePod(pod);
      else pod.metadata.ownerReferences = [];
    }
    return true;
  }

  /** Graceful pod deletion: SIGTERM, SIGKILL after the grace period, gone once the process has exited. */
  deletePod(pod: PodObject): void {
    if (pod.metadata.deletionTimestamp) return;
    pod.metadata.deletionTimestamp = now();
    pod.metadata.resourceVersion = rv();
    const proc = this.processes.get(StandinCluster.key(pod.metadata.namespace, pod.metadata.name));
    if (!proc || proc.exit) return this.removePod(pod);
    proc.signal('SIGTERM');
    this.later((pod.spec.terminationGracePeriodSeconds ?? 30) * 1000 * (this.options.graceScale ?? 1), () => proc.signal('SIGKILL'));
  }

  private removePod(pod: PodObject): void {
    const key = StandinCluster.key(pod.metadata.namespace, pod.metadata.name);
    this.pods.delete(key);
    this.processes.delete(key);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    const procs = [...this.processes.values()];
    for (const p of procs) p.signal('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    rmSync(this.scratch, { recursive: true, force: true });
  }
}
