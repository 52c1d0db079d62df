import type { KubeConfig } from '@kubernetes/client-node';
import type { StateStore } from '../../state/store.js';
import { apiStatus, defaultNamespace, kubeClients, kubernetesError } from './kube-client.js';
import { LABEL, labelValue, MANAGED_BY } from './stage-job-manifest.js';

export interface StageJobLabels {
  name: string;
  run: string;
  stage: string;
  attempt: number;
  runner: string;
}

export interface ReapOptions {
  kubeConfig?: KubeConfig;
  namespace?: string;
  /**
   * Whether a stage Job still has a live runner. Default (with `store`): its run is "running" in the state
   * store and still driven by the runner that created the Job; a resumed run's new runner starts new Jobs.
   */
  isLive?(job: StageJobLabels): boolean | Promise<boolean>;
  store?: StateStore;
}

/**
 * Deletes the stage Jobs (with their pods and env Secrets) whose runner is gone: a Datamill killed while
 * stages ran leaves them behind, and only its successor can clean up. Returns the names deleted.
 */
export async function reapOrphanStageJobs(options: ReapOptions): Promise<string[]> {
  const { store } = options;
  const isLive = options.isLive ?? (store ? async (j: StageJobLabels) => {
    const run = await store.findRun(j.run);
    return run?.status === 'running' && labelValue(run.runner ?? '') === j.runner;
  } : null);
  if (!isLive) throw new TypeError('reapOrphanStageJobs needs a store or an isLive predicate');
  const clients = kubeClients(options.kubeConfig);
  const namespace = options.namespace ?? defaultNamespace(clients.config);
  const selector = `${LABEL.managedBy}=${MANAGED_BY}`;
  let jobs;
  try {
    jobs = (await clients.batch.listNamespacedJob({ namespace, labelSelector: selector })).items;
  } catch (err) {
    throw kubernetesError(`listing stage Jobs in ${namespace}`, err);
  }
  const reaped: string[] = [];
  const deadRuns = new Set<string>();
  for (const job of jobs) {
    const l = job.metadata?.labels ?? {};
    const labels: StageJobLabels = { name: job.metadata!.name!, run: l[LABEL.run] ?? '', stage: l[LABEL.stage] ?? '', attempt: Number(l[LABEL.attempt] ?? 0), runner: l[LABEL.runner] ?? '' };
    if (await isLive(labels)) continue;
    try {
      await clients.batch.deleteNamespacedJob({ name: labels.name, namespace, propagationPolicy: 'Background' });
      reaped.push(labels.name);
    } catch (err) {
      if (apiStatus(err) !== 404) throw kubernetesError(`deleting orphan stage Job ${labels.name}`, err);
    }
    deadRuns.add(labels.name);
  }
  // Env Secrets outlive their Job when the runner died between the two deletes.
  const secrets = (await clients.core.listNamespacedSecret({ namespace, labelSelector: selector }).catch(() => ({ items: [] }))).items;
  const liveJobs = new Set(jobs.map((j) => j.metadata!.name!).filter((n) => !deadRuns.has(n)));
  for (const s of secrets) {
    const task = s.metadata?.labels?.[LABEL.task] ?? '';
    // A Secret younger than this may belong to a Job a live runner is creating right now.
    if (liveJobs.has(task) || Date.now() - +(s.metadata?.creationTimestamp ?? 0) < 120_000) continue;
    await clients.core.deleteNamespacedSecret({ name: s.metadata!.name!, namespace }).catch(() => undefined);
  }
  return reaped;
}
