import type { ResourcePool } from './resource-pool.js';

export interface PoolTaskView {
  state: 'running' | 'waiting';
  tenant: string;
  job: string;
  run: string;
  stage: string;
  cpus: number;
  memoryBytes: number;
  priority: number;
  since: string;
}

/** What `datamill pool --json` prints and GET /api/pool returns. */
export interface PoolView {
  capacity: { cpus: number; memoryBytes: number; quotas: Record<string, { cpus: number; memoryBytes: number }> };
  inUse: { cpus: number; memoryBytes: number };
  running: PoolTaskView[];
  waiting: PoolTaskView[];
}

export function poolJson(pool: ResourcePool): PoolView {
  const s = pool.snapshot();
  const view = (state: PoolTaskView['state']) => (e: (typeof s.running)[number]): PoolTaskView => ({ state, tenant: e.tenant, job: e.job, run: e.run, stage: e.stage, cpus: e.cpus, memoryBytes: e.memoryBytes, priority: e.priority, since: e.since });
  return { capacity: s.capacity, inUse: s.inUse, running: s.running.map(view('running')), waiting: s.waiting.map(view('waiting')) };
}
