import { availableParallelism, totalmem } from 'node:os';
import { SpecError } from '../core/errors.js';
import { parseSize } from '../spec/units.js';
import type { PoolCapacity } from './resource-pool.js';

/** Settings as the user gives them (flags win over environment): text, validated here. */
export interface PoolSettings {
  cpus?: string | undefined;
  memory?: string | undefined;
  /** `tenant=CPUS:MEMORY[,tenant=CPUS:MEMORY…]`, e.g. `analytics=2:4Gi,adhoc=1:1Gi`. */
  quotas?: string | undefined;
}

/** Reads DATAMILL_POOL_CPUS, DATAMILL_POOL_MEMORY and DATAMILL_POOL_QUOTAS. */
export function poolSettingsFromEnv(env: NodeJS.ProcessEnv): PoolSettings {
  return { cpus: env.DATAMILL_POOL_CPUS, memory: env.DATAMILL_POOL_MEMORY, quotas: env.DATAMILL_POOL_QUOTAS };
}

function cpusOf(text: string, where: string): number {
  const n = Number(text);
  if (!(n > 0) || !Number.isFinite(n)) throw new SpecError(`${where} ${text}: expected a number of cpus above 0, like 2 or 0.5`, { details: { where, value: text, expected: 'a positive number' } });
  return n;
}

function memoryOf(text: string, where: string): number {
  const n = parseSize(text);
  if (n === null || n <= 0) throw new SpecError(`${where} ${text}: expected a size like 4Gi, 512Mi or a number of bytes`, { details: { where, value: text, expected: 'a size above 0' } });
  return n;
}

/** The pool's capacity: this machine's cores and memory unless told otherwise. */
export function poolCapacity(settings: PoolSettings = {}): PoolCapacity {
  const quotas: PoolCapacity['quotas'] = {};
  for (const part of (settings.quotas ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z0-9][a-z0-9-]*)=([^:]+):(.+)$/.exec(part);
    if (!m) throw new SpecError(`pool quota "${part}": expected TENANT=CPUS:MEMORY, e.g. analytics=2:4Gi`, { details: { where: 'quotas', value: part, expected: 'TENANT=CPUS:MEMORY' } });
    quotas[m[1]!] = { cpus: cpusOf(m[2]!, `quota of ${m[1]} cpus`), memoryBytes: memoryOf(m[3]!, `quota of ${m[1]} memory`) };
  }
  return {
    cpus: settings.cpus ? cpusOf(settings.cpus, 'pool cpus') : availableParallelism(),
    memoryBytes: settings.memory ? memoryOf(settings.memory, 'pool memory') : totalmem(),
    quotas,
  };
}
