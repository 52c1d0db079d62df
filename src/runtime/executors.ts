import { PooledExecutor } from '../pool/pooled-executor.js';
import type { ResourcePool } from '../pool/resource-pool.js';
import type { JobSpec } from '../spec/job-schema.js';
import type { Executor } from './executor.js';
import { ProcessExecutor } from './process-executor.js';
import { stagePriority } from './stage-section.js';

/**
 * The executor a job's stages run on (`executor:` in the job), behind the pool every task of this
 * Datamill process shares: `run` and `replay` make their own pool, `serve` one for all its jobs.
 */
export function executorForJob(spec: JobSpec, pool: ResourcePool, inner: Executor = innerExecutor(spec)): Executor {
  return new PooledExecutor(inner, pool, { tenant: spec.tenant, job: spec.job, priority: (stage) => stagePriority(spec, stage) });
}

function innerExecutor(spec: JobSpec): Executor {
  switch (spec.executor) {
    case 'process':
      return new ProcessExecutor();
    case 'docker':
      return lazyExecutor('docker', async () => (await import('./docker/docker-executor.js')).createDockerExecutor(spec));
    case 'kubernetes':
      return lazyExecutor('kubernetes', async () => (await import('./kubernetes/kubernetes-executor.js')).createKubernetesExecutor(spec));
  }
}

/**
 * Loaded at the first task: the Kubernetes client alone costs ~2 s and ~80 MB to import, which every
 * `datamill` command would pay otherwise, also on a laptop that never talks to a cluster.
 */
function lazyExecutor(name: string, load: () => Promise<Executor>): Executor {
  let loading: Promise<Executor> | null = null;
  return { name, start: async (task) => (await (loading ??= load())).start(task) };
}
