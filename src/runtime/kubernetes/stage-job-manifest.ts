import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { V1Container, V1Job, V1Secret, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { SpecError } from '../../core/errors.js';
import { parseDuration } from '../../spec/units.js';
import type { JobSpec } from '../../spec/job-schema.js';
import type { TaskSpec } from '../executor.js';
import type { KubernetesSpec } from './kubernetes-schema.js';

/** The image stages run in when the job names none (the top-level Dockerfile's; entrypoint `datamill`). */
export const DEFAULT_STAGE_IMAGE = 'datamill:latest';
/** The container name in every stage pod (logs and exit codes are read from it). */
export const STAGE_CONTAINER = 'stage';
/** The uid of the `node` user in the official Node images our Dockerfile builds on. */
const STAGE_UID = 1000;

export const LABEL = {
  managedBy: 'app.kubernetes.io/managed-by',
  run: 'datamill.run',
  stage: 'datamill.stage',
  attempt: 'datamill.attempt',
  job: 'datamill.job',
  tenant: 'datamill.tenant',
  task: 'datamill.task',
  runner: 'datamill.runner',
} as const;
export const MANAGED_BY = 'datamill';

/** Label values: at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends. */
export function labelValue(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

/** Job names are DNS labels (their pods carry the name in a label, hence 63 characters). */
export function stageJobName(task: Pick<TaskSpec, 'run' | 'stage' | 'attempt'>): string {
  const run = task.run.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  const tail = `-${task.stage}-${task.attempt}`;
  if (3 + run.length + tail.length <= 63) return `dm-${run}${tail}`;
  // Too long: keep the stage and attempt (they tell attempts apart) and a hash of the whole run id.
  const hash = createHash('sha256').update(task.run).digest('hex').slice(0, 8);
  return `dm-${run.slice(0, 63 - 3 - 9 - tail.length).replace(/-+$/, '')}-${hash}${tail}`;
}

export function cpuQuantity(cpus: number): string {
  return `${Math.max(1, Math.round(cpus * 1000))}m`;
}

export function memoryQuantity(bytes: number): string {
  const mi = 1024 ** 2;
  return bytes % mi === 0 ? `${bytes / mi}Mi` : String(Math.ceil(bytes));
}

function argValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/**
 * The stage pod reads and writes the buffer itself, so it must reach it: an s3:// buffer always can; a
 * file:// buffer only through a claim mounted at the path the runner sees (same PVC, same path).
 */
export function checkBufferReachable(args: string[], k8s: KubernetesSpec | undefined): void {
  const buffer = argValue(args, '--buffer');
  if (!buffer?.startsWith('file:')) return;
  const root = fileURLToPath(buffer);
  const claims = (k8s?.mounts ?? []).flatMap((m) => ('claim' in m ? [m.path.replace(/\/+$/, '')] : []));
  if (claims.some((p) => root === p || root.startsWith(p + '/'))) return;
  throw new SpecError(`the stage pods cannot reach the file buffer ${root}: mount a PersistentVolumeClaim at that path (kubernetes.mounts: [{ claim: NAME, path: ${root} }]) or use an s3:// buffer`, {
    details: { where: 'kubernetes.mounts', value: root, expected: 'a claim mounted at (or above) the buffer path, or buffer: s3://…' },
  });
}

export interface StageJobInput {
  spec: Pick<JobSpec, 'job' | 'tenant' | 'image' | 'kubernetes'>;
  task: Pick<TaskSpec, 'run' | 'stage' | 'attempt' | 'args' | 'resources' | 'timeoutMs'> & { env: Record<string, string> };
  runner: string;
  namespace: string;
}

export function stageLabels(input: StageJobInput): Record<string, string> {
  const { spec, task } = input;
  return {
    ...(spec.kubernetes?.labels ?? {}),
    [LABEL.managedBy]: MANAGED_BY,
    [LABEL.run]: labelValue(task.run),
    [LABEL.stage]: task.stage,
    [LABEL.attempt]: String(task.attempt),
    [LABEL.job]: labelValue(spec.job),
    [LABEL.tenant]: labelValue(spec.tenant),
    [LABEL.task]: stageJobName(task),
    [LABEL.runner]: labelValue(input.runner),
  };
}

/**
 * The task's environment goes into a Secret of its own, referenced by the container with envFrom, so no
 * value is written into the Job object in plain text (anyone allowed to read Jobs would see them there).
 */
export function stageEnvSecret(input: StageJobInput): V1Secret | null {
  if (Object.keys(input.task.env).length === 0) return null;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `${stageJobName(input.task)}-env`.slice(0, 253), namespace: input.namespace, labels: stageLabels(input) },
    type: 'Opaque',
    stringData: { ...input.task.env },
  };
}

function volumesOf(k8s: KubernetesSpec | undefined): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  // Read-only root filesystem: /tmp is the one writable place (sorting, spill files, tmpdir()).
  const volumes: V1Volume[] = [{ name: 'tmp', emptyDir: {} }];
  const mounts: V1VolumeMount[] = [{ name: 'tmp', mountPath: '/tmp' }];
  for (const [i, m] of (k8s?.mounts ?? []).entries()) {
    const name = `mount-${i}`;
    if ('claim' in m) {
      volumes.push({ name, persistentVolumeClaim: { claimName: m.claim, readOnly: m.read_only } });
      mounts.push({ name, mountPath: m.path, readOnly: m.read_only });
    } else {
      volumes.push('secret' in m ? { name, secret: { secretName: m.secret } } : { name, configMap: { name: m.config_map } });
      mounts.push({ name, mountPath: m.path, readOnly: true });
    }
  }
  return { volumes, mounts };
}

/** The batch/v1 Job of one stage attempt (DESIGN §4 and §6: the same command, requests and limits). */
export function stageJobManifest(input: StageJobInput): V1Job {
  const { spec, task, namespace } = input;
  const k8s = spec.kubernetes;
  const name = stageJobName(task);
  const labels = stageLabels(input);
  const envSecret = stageEnvSecret(input);
  const { volumes, mounts } = volumesOf(k8s);
  const resources = { cpu: cpuQuantity(task.resources.cpus), memory: memoryQuantity(task.resources.memoryBytes) };
  const container: V1Container = {
    name: STAGE_CONTAINER,
    image: spec.image ?? DEFAULT_STAGE_IMAGE,
    ...(k8s?.image_pull_policy ? { imagePullPolicy: k8s.image_pull_policy } : {}),
    ...(k8s?.command ? { command: k8s.command } : {}),
    args: task.args,
    env: [{ name: 'TMPDIR', value: '/tmp' }],
    envFrom: [
      ...(k8s?.env_from_secrets ?? []).map((s) => ({ secretRef: { name: s } })),
      ...(envSecret ? [{ secretRef: { name: envSecret.metadata!.name! } }] : []),
    ],
    // Requests equal limits: the pool's promise (DESIGN §6) and the Guaranteed QoS class.
    resources: { requests: resources, limits: resources },
    volumeMounts: mounts,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: STAGE_UID,
      runAsGroup: STAGE_UID,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    },
  };
  const ttlMs = parseDuration(k8s?.ttl ?? '10m') ?? 600_000;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace, labels },
    spec: {
      // Datamill owns retries (a new Job per attempt, with backoff and classified errors).
      backoffLimit: 0,
      ttlSecondsAfterFinished: Math.max(0, Math.ceil(ttlMs / 1000)),
      ...(task.timeoutMs ? { activeDeadlineSeconds: Math.max(1, Math.ceil(task.timeoutMs / 1000)) } : {}),
      template: {
        metadata: { labels, ...(k8s?.annotations ? { annotations: k8s.annotations } : {}) },
        spec: {
          restartPolicy: 'Never',
          // Stages never talk to the Kubernetes API (DESIGN §4): no token in the pod.
          automountServiceAccountToken: false,
          ...(k8s?.service_account ? { serviceAccountName: k8s.service_account } : {}),
          ...(k8s?.node_selector ? { nodeSelector: k8s.node_selector } : {}),
          ...(k8s?.image_pull_secrets ? { imagePullSecrets: k8s.image_pull_secrets.map((n) => ({ name: n })) } : {}),
          securityContext: { runAsNonRoot: true, fsGroup: STAGE_UID, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [container],
          volumes,
        },
      },
    },
  };
}
