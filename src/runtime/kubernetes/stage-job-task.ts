import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { asDatamillError, type DatamillError } from '../../core/errors.js';
import { formatBytes } from '../../spec/units.js';
import type { TaskExit, TaskHandle, TaskSpec } from '../executor.js';
import { apiStatus, kubernetesError, type KubeClients } from './kube-client.js';
import { followPodLogs, type LogFollower } from './pod-logs.js';
import { PodUsageSampler } from './pod-usage.js';
import { LABEL, STAGE_CONTAINER, stageEnvSecret, stageJobManifest, type StageJobInput } from './stage-job-manifest.js';

export interface StageJobTiming {
  pollIntervalMs: number;
  usageIntervalMs: number;
  /** How long an image pull or container config error may last before the attempt fails. */
  startFailureGraceMs: number;
  /** How long to wait for the pod to go after deleting its Job (cancel, timeout). */
  deleteWaitMs: number;
}

/** Waiting reasons that do not fix themselves: the image or the pod's configuration is wrong. */
const START_FAILURES: Record<string, string> = {
  ErrImagePull: 'ImagePullError', ImagePullBackOff: 'ImagePullError', InvalidImageName: 'ImagePullError',
  CreateContainerConfigError: 'PodConfigError', CreateContainerError: 'PodConfigError',
};
/** Lost contact with the API for this long ends the attempt (retryable): the Job is left to its TTL. */
const API_PATIENCE_MS = 60_000;

const signalName = (code: number) => Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0] ?? null;

/** Executor notes go into the run log like the stage's own JSON lines. */
function note(task: TaskSpec, level: 'info' | 'warn' | 'error', message: string, meta: Record<string, unknown> = {}): void {
  task.onLine(JSON.stringify({ level, message, executor: 'kubernetes', ...meta }), 'stdout');
}

/**
 * One stage attempt as a batch/v1 Job: create, follow the pod (pending → running → terminated), stream its
 * log, read the exit from the container's terminated state, and delete the Job when it is over (its TTL is
 * only the backstop for a runner that died). Polls rather than watches: one list and one get per interval.
 */
export function startStageJob(clients: KubeClients, input: StageJobInput, task: TaskSpec, timing: StageJobTiming): TaskHandle {
  const { namespace } = input;
  const job = stageJobManifest(input);
  const name = job.metadata!.name!;
  const secret = stageEnvSecret(input);
  let stopRequested = false;
  let wake: (() => void) | null = null;
  let timedOut = false;
  let cancelled = false;
  const requestStop = () => {
    stopRequested = true;
    wake?.();
  };
  const timer = task.timeoutMs ? setTimeout(() => ((timedOut = true), requestStop()), Math.min(task.timeoutMs, 2 ** 31 - 1)) : null;
  timer?.unref();

  const deleteJob = async () => {
    try {
      await clients.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' });
    } catch (err) {
      if (apiStatus(err) !== 404) note(task, 'warn', `could not delete stage Job ${name} (its TTL will): ${kubernetesError('delete', err).message}`);
    }
    if (secret) await clients.core.deleteNamespacedSecret({ name: secret.metadata!.name!, namespace }).catch(() => undefined);
  };

  const exited = (async (): Promise<TaskExit> => {
    const usage = { peakRssBytes: null, cpuSeconds: null } as TaskExit['usage'];
    const ended = (extra: Partial<TaskExit>): TaskExit => ({ code: null, signal: null, timedOut, cancelled, usage, ...extra });
    const failed = (err: DatamillError): TaskExit => ended({ failure: { name: err.name, message: err.message, retryable: err.retryable } });
    try {
      if (secret) await clients.core.createNamespacedSecret({ namespace, body: secret });
      await clients.batch.createNamespacedJob({ namespace, body: job });
    } catch (err) {
      await deleteJob();
      return failed(kubernetesError(`creating stage Job ${name} in namespace ${namespace}`, err));
    }
    note(task, 'info', `stage Job ${namespace}/${name} created`, { k8s_job: name });

    let follower: LogFollower | null = null;
    let sampler: PodUsageSampler | null = null;
    let terminatedSeen = false;
    let deletedAt = 0;
    let lastReason = '';
    let startFailureSince = 0;
    let apiFailingSince = 0;
    let result: TaskExit | null = null;
    for (let first = true; !result; first = false) {
      // A ref'd timer: while a stage runs, this wait may be all that keeps the process (a `datamill run`) alive.
      if (!first && !stopRequested) await new Promise<void>((r) => ((wake = r), setTimeout(r, timing.pollIntervalMs)));
      wake = null;
      if (stopRequested && !deletedAt) {
        deletedAt = Date.now();
        await deleteJob();
      }
      let pods: V1Pod[];
      let current: V1Job | null;
      try {
        [pods, current] = await Promise.all([
          clients.core.listNamespacedPod({ namespace, labelSelector: `${LABEL.task}=${name}` }).then((l) => l.items),
          clients.batch.readNamespacedJob({ name, namespace }).catch((err: unknown) => (apiStatus(err) === 404 ? null : Promise.reject(err))),
        ]);
        apiFailingSince = 0;
      } catch (err) {
        apiFailingSince ||= Date.now();
        if (Date.now() - apiFailingSince < API_PATIENCE_MS) continue;
        result = failed(kubernetesError(`following stage Job ${name}`, err));
        break;
      }
      const pod = pods.sort((a, b) => +(b.metadata?.creationTimestamp ?? 0) - +(a.metadata?.creationTimestamp ?? 0))[0];
      const state = pod?.status?.containerStatuses?.find((c) => c.name === STAGE_CONTAINER)?.state;
      const reason = state?.waiting?.reason ?? (state?.running ? 'Running' : state?.terminated ? '' : pod?.status?.phase ?? '');
      if (pod && reason && reason !== lastReason) note(task, 'info', `pod ${pod.metadata?.name}: ${reason}${state?.waiting?.message ? ` (${state.waiting.message})` : ''}`, { k8s_pod: pod.metadata?.name, node: pod.spec?.nodeName });
      lastReason = reason || lastReason;
      if (pod && (state?.running || state?.terminated) && !follower) {
        const podName = pod.metadata!.name!;
        follower = followPodLogs({ config: clients.config, namespace, pod: podName, onLine: (l) => task.onLine(l, 'stdout'), terminated: () => terminatedSeen, retryMs: Math.min(500, timing.pollIntervalMs) });
        sampler = new PodUsageSampler(clients.config, namespace, podName, timing.usageIntervalMs);
        if (state.running) sampler.start();
      }
      const kind = state?.waiting?.reason ? START_FAILURES[state.waiting.reason] : undefined;
      startFailureSince = kind ? startFailureSince || Date.now() : 0;
      const jobFailed = current?.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
      if (jobFailed?.reason === 'DeadlineExceeded') timedOut = true;

      if (state?.terminated) {
        terminatedSeen = true;
        const t = state.terminated;
        const code = t.exitCode;
        const signal = code > 128 ? signalName(code) : null;
        if (t.reason === 'OOMKilled') {
          const limit = pod!.spec?.containers.find((c) => c.name === STAGE_CONTAINER)?.resources?.limits?.memory;
          result = ended({ code, signal, failure: { name: 'OutOfMemory', message: `${task.stage} was killed for using more memory than its limit (${formatBytes(task.resources.memoryBytes)}${limit ? `, limits.memory ${limit}` : ''}); raise resources.memory for this stage`, retryable: false } });
        } else result = ended({ code, signal });
      } else if (pod?.status?.phase === 'Failed') {
        // Evicted, node lost, preempted: the stage never reported an end of its own, so another attempt may do better.
        result = ended({ failure: { name: 'PodFailed', message: `${task.stage} pod ${pod.metadata?.name} failed: ${pod.status.reason ?? 'unknown reason'}${pod.status.message ? ` (${pod.status.message})` : ''}`, retryable: true } });
      } else if (kind && Date.now() - startFailureSince >= timing.startFailureGraceMs) {
        result = ended({ failure: { name: kind, message: `${task.stage} pod could not start: ${state!.waiting!.reason}${state!.waiting!.message ? `: ${state!.waiting!.message}` : ''}`, retryable: false } });
      } else if (deletedAt) {
        if (!pod || Date.now() - deletedAt >= timing.deleteWaitMs) result = ended({});
      } else if (!current) {
        result = ended({ failure: { name: 'StageJobDeleted', message: `stage Job ${name} was deleted from outside Datamill before ${task.stage} finished`, retryable: true } });
      } else if (jobFailed && !pod) {
        result = ended({ failure: { name: 'StageJobFailed', message: `stage Job ${name} failed: ${jobFailed.reason ?? ''} ${jobFailed.message ?? ''}`.trim(), retryable: true } });
      }
    }
    if (timer) clearTimeout(timer);
    sampler?.stop();
    if (follower) {
      // Wait for the log's last lines (the stage's result line is one of them), but not forever.
      if (terminatedSeen) await Promise.race([follower.done, sleep(30_000, undefined, { ref: false })]);
      follower.stop();
    }
    Object.assign(usage, sampler?.usage ?? {});
    if (!deletedAt) await deleteJob();
    return result;
  })().catch((err: unknown) => {
    const e = asDatamillError(err);
    return { code: null, signal: null, timedOut, cancelled, usage: { peakRssBytes: null, cpuSeconds: null }, failure: { name: e.name, message: e.message, retryable: true } } satisfies TaskExit;
  });

  return {
    id: `${namespace}/${name}`,
    wait: () => exited,
    cancel: () => {
      cancelled = true;
      requestStop();
    },
  };
}
