import type { KubeConfig } from '@kubernetes/client-node';
import { asDatamillError } from '../../core/errors.js';
import type { JobSpec } from '../../spec/job-schema.js';
import type { Executor, TaskExit, TaskHandle, TaskSpec } from '../executor.js';
import { runnerId } from '../orphans.js';
import { defaultNamespace, kubeClients, type KubeClients } from './kube-client.js';
import { checkBufferReachable, stageJobName } from './stage-job-manifest.js';
import { startStageJob, type StageJobTiming } from './stage-job-task.js';

export interface KubernetesExecutorOptions {
  /** Default: KUBECONFIG, ~/.kube/config, then the in-cluster service account. */
  kubeConfig?: KubeConfig;
  /** Overrides the job's `kubernetes.namespace` (and the context's). */
  namespace?: string;
  /** Who drives the runs (labels each Job so orphans can be told apart); default host:pid. */
  runner?: string;
  /** Defaults: poll 1 s, usage 10 s, start failures 2 min, wait after delete 60 s. */
  timing?: Partial<StageJobTiming>;
}

const DEFAULT_TIMING: StageJobTiming = { pollIntervalMs: 1000, usageIntervalMs: 10_000, startFailureGraceMs: 120_000, deleteWaitMs: 60_000 };

/** A task that failed before anything was created (the job cannot run here as written). */
function refused(task: TaskSpec, err: unknown): TaskHandle {
  const e = asDatamillError(err);
  const exit: TaskExit = { code: null, signal: null, timedOut: false, cancelled: false, usage: { peakRssBytes: null, cpuSeconds: null }, failure: { name: e.name, message: e.message, retryable: e.retryable } };
  return { id: stageJobName(task), wait: async () => exit, cancel: () => undefined };
}

/**
 * `executor: kubernetes`: each stage attempt runs `datamill stage …` as a batch/v1 Job in the job's image,
 * with its resources as requests and limits (DESIGN §6). The KubeConfig is loaded at the first start, so
 * creating the executor (e.g. to validate a job) needs no cluster.
 */
export function createKubernetesExecutor(spec: JobSpec, options: KubernetesExecutorOptions = {}): Executor {
  let clients: KubeClients | null = null;
  const timing = { ...DEFAULT_TIMING, ...options.timing };
  const runner = options.runner ?? runnerId();
  return {
    name: 'kubernetes',
    async start(task: TaskSpec): Promise<TaskHandle> {
      try {
        checkBufferReachable(task.args, spec.kubernetes);
        clients ??= kubeClients(options.kubeConfig);
      } catch (err) {
        return refused(task, err);
      }
      const namespace = options.namespace ?? spec.kubernetes?.namespace ?? defaultNamespace(clients.config);
      return startStageJob(clients, { spec, task, runner, namespace }, task, timing);
    },
  };
}
