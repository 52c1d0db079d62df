import { PooledExecutor } from '../pool/pooled-executor.js';
import type { ResourcePool } from '../pool/resource-pool.js';
import type { JobSpec } from '../spec/job-schema.js';
import { createDockerExecutor } from './docker/docker-executor.js';
import type { Executor } from './executor.js';
import { createKubernetesExecutor } from './kubernetes/kubernetes-executor.js';
import { ProcessExecutor } from './process-executor.js';
import { stagePriority } from './stage-section.js';

/**
 * The executor a job's stages run on (`executor:` in the job), behind the pool every task of this
 * Datamill process shares: `run` and `replay` make their own pool, `serve` one for all its jobs.
 */
export function executorForJob(spec: JobSpec, pool: ResourcePool): Executor {
  return new PooledExecutor(innerExecutor(spec), pool, { tenant: spec.tenant, job: spec.job, priority: (stage) => stagePriority(spec, stage) });
}

function innerExecutor(spec: JobSpec): Executor {
  switch (spec.executor) {
    case 'process':
      return new ProcessExecutor();
    case 'docker':
      return createDockerExecutor(spec);
    case 'kubernetes':
      return createKubernetesExecutor(spec);
  }
}
