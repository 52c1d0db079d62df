import type { Command } from 'commander';
import { SpecError } from '../core/errors.js';
import type { ApiClient } from '../api/client.js';
import type { ExecRequest } from '../exec/exec-container.js';
import type { RunRecord } from '../state/store.js';
import { poolCapacity, poolSettingsFromEnv } from '../pool/pool-capacity.js';
import { poolJson, type PoolView } from '../pool/pool-snapshot.js';
import { ResourcePool } from '../pool/resource-pool.js';
import { formatBytes, formatDuration } from '../spec/units.js';
import type { StateStore } from '../state/store.js';
import { table } from './read-commands.js';
import { addRemoteOptions, remoteClient, type RemoteOptions } from './run-reader.js';

export interface PoolFlags {
  poolCpus?: string;
  poolMemory?: string;
  poolQuotas?: string;
}

/** --pool-cpus / --pool-memory / --pool-quotas on every command that runs tasks (flags win over DATAMILL_POOL_*). */
export function withPoolOptions(cmd: Command): Command {
  return cmd
    .option('--pool-cpus <n>', 'cpus of the resource pool (default: $DATAMILL_POOL_CPUS or this machine\'s cores)')
    .option('--pool-memory <size>', 'memory of the resource pool (default: $DATAMILL_POOL_MEMORY or this machine\'s memory)')
    .option('--pool-quotas <list>', 'per-tenant ceilings, TENANT=CPUS:MEMORY,… (default: $DATAMILL_POOL_QUOTAS)');
}

/** The pool of a standalone command (`run`, `replay`, `exec`): this process's own. */
export function standalonePool(flags: PoolFlags, env: NodeJS.ProcessEnv = process.env): ResourcePool {
  const fromEnv = poolSettingsFromEnv(env);
  return new ResourcePool(poolCapacity({ cpus: flags.poolCpus ?? fromEnv.cpus, memory: flags.poolMemory ?? fromEnv.memory, quotas: flags.poolQuotas ?? fromEnv.quotas }));
}

function poolTable(view: PoolView, now = Date.now()): string {
  const c = view.capacity;
  const head = `pool: ${view.inUse.cpus}/${c.cpus} cpus, ${formatBytes(view.inUse.memoryBytes)}/${formatBytes(c.memoryBytes)} in use; ${view.running.length} running, ${view.waiting.length} waiting`;
  const quotas = Object.entries(c.quotas).map(([t, q]) => `${t} ${q.cpus} cpus/${formatBytes(q.memoryBytes)}`);
  const tasks = [...view.running, ...view.waiting];
  const rows = [['STATE', 'TENANT', 'JOB', 'RUN', 'STAGE', 'CPUS', 'MEMORY', 'PRIORITY', 'SINCE'], ...tasks.map((t) => [t.state, t.tenant, t.job, t.run, t.stage, String(t.cpus), formatBytes(t.memoryBytes), String(t.priority), `${formatDuration(now - Date.parse(t.since))} ago`])];
  return [head, ...(quotas.length ? [`quotas: ${quotas.join(', ')}`] : []), tasks.length ? table(rows) : 'nothing running or waiting'].join('\n');
}

function keyValues(list: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of list) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new SpecError(`${flag} ${p}: expected NAME=VALUE`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

/** `exec --server`: the container runs on the server's pool; its output arrives through the run's log. */
async function execOnServer(client: ApiClient, request: ExecRequest, json: boolean): Promise<number> {
  const { run } = await client.post<{ run: RunRecord }>('/api/exec', request);
  const path = `/api/runs/${encodeURIComponent(run.id)}`;
  for await (const entry of client.lines(`${path}/logs`, { follow: 1, stage: 'exec' })) {
    if (!json && entry.stream) (entry.stream === 'stdout' ? process.stdout : process.stderr).write(String(entry.message) + '\n');
  }
  const ended = (await client.get<{ run: RunRecord }>(path)).run;
  const exitCode = typeof ended.figures.exit_code === 'number' ? ended.figures.exit_code : ended.status === 'succeeded' ? 0 : 1;
  if (json) process.stdout.write(JSON.stringify(ended, null, 2) + '\n');
  if (ended.error && (exitCode === 125 || ended.error.name === 'OutOfMemory')) process.stderr.write(`datamill: ${ended.error.message}\n`);
  process.stderr.write(`run ${ended.id} ${ended.status} (exit code ${exitCode}); logs: datamill logs ${ended.id} --server …\n`);
  return exitCode;
}

/** `exec` (one-off container on the pool) and `pool` (what runs and waits). */
export type WithStore = <T>(program: Command, work: (store: StateStore, home: string, signal: AbortSignal) => Promise<T>) => Promise<T>;

export function addContainerCommands(program: Command, setCode: (code: number) => void, withStore: WithStore): void {
  addRemoteOptions(withPoolOptions(
    program
      .command('exec')
      .description('run one container through the resource pool, stream its output and exit with its exit code; recorded as a run (trigger exec)')
      .requiredOption('--image <image>', 'image to run')
      .option('--cpus <n>', 'cpus (a hard limit, and the pool request)', '1')
      .option('--memory <size>', 'memory (a hard limit, and the pool request)', '512Mi')
      .option('--env <name=value>', 'environment variable (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
      .option('--network <mode>', 'none (default: loopback only) or host', 'none')
      .option('--entrypoint <path>', "replace the image's entrypoint")
      .option('--tenant <name>', 'tenant the pool counts it against', 'default')
      .option('--priority <n>', 'pool priority (higher first)', '0')
      .option('--json', 'print the run record as JSON at the end instead of the output')
      .argument('[command...]', 'command and arguments, after --'),
  )).action(async (command: string[], o: PoolFlags & RemoteOptions & { image: string; cpus: string; memory: string; env: string[]; network: string; entrypoint?: string; tenant: string; priority: string; json?: boolean }) => {
    const request: ExecRequest = {
      image: o.image, command, cpus: Number(o.cpus), memory: o.memory, env: keyValues(o.env, '--env'), network: o.network as 'none' | 'host',
      tenant: o.tenant, priority: Number(o.priority), ...(o.entrypoint ? { entrypoint: [o.entrypoint] } : {}),
    };
    const client = remoteClient(o);
    if (client) return setCode(await execOnServer(client, request, o.json ?? false));
    await withStore(program, async (store, home, signal) => {
      const { execContainer } = await import('../exec/exec-container.js');
      const { run, exitCode } = await execContainer(
        request,
        { store, home, pool: standalonePool(o), signal, onLine: o.json ? undefined : (line, stream) => (stream === 'stdout' ? process.stdout : process.stderr).write(line + '\n') },
      );
      if (o.json) process.stdout.write(JSON.stringify(run, null, 2) + '\n');
      if (run.error && (exitCode === 125 || run.error.name === 'OutOfMemory')) process.stderr.write(`datamill: ${run.error.message}\n`);
      process.stderr.write(`run ${run.id} ${run.status} (exit code ${exitCode}); logs: datamill logs ${run.id}\n`);
      setCode(exitCode);
    });
  });

  addRemoteOptions(withPoolOptions(
    program
      .command('pool')
      .description('what the resource pool of a running `datamill serve` runs and what waits (--server); without one, this machine\'s capacity')
      .option('--json', 'print JSON'),
  )).action(async (o: PoolFlags & RemoteOptions & { json?: boolean }) => {
    const client = remoteClient(o);
    const view = client ? (await client.get<{ pool: PoolView }>('/api/pool')).pool : poolJson(standalonePool(o));
    process.stdout.write((o.json ? JSON.stringify(view, null, 2) : poolTable(view)) + '\n');
  });
}
