import type Docker from 'dockerode';
import { z } from 'zod';
import type { StageName } from '../buffer/manifest.js';
import { asDatamillError, SpecError } from '../core/errors.js';
import { runLogger } from '../log/run-log.js';
import { PooledExecutor } from '../pool/pooled-executor.js';
import type { ResourcePool } from '../pool/resource-pool.js';
import { nameSchema, sizeSchema } from '../spec/common-schemas.js';
import { redact } from '../spec/secrets.js';
import { formatBytes, parseSize } from '../spec/units.js';
import type { RunError, RunRecord, StateStore } from '../state/store.js';
import { reapOnce } from '../runtime/docker/docker-executor.js';
import { runContainer } from '../runtime/docker/container-task.js';
import { dockerClient } from '../runtime/docker/docker-client.js';
import { containerUser } from '../runtime/docker/stage-container.js';
import type { TaskExit } from '../runtime/executor.js';
import { runnerId } from '../runtime/orphans.js';
import { newRunId } from '../runtime/run-job.js';

/** A one-off container invocation (`datamill exec`, POST /api/exec), validated at the boundary. */
export const execRequestSchema = z.strictObject({
  image: z.string().min(1).describe('Image to run'),
  command: z.array(z.string()).default([]).describe("Command and arguments (the image's CMD when empty)"),
  entrypoint: z.array(z.string()).optional().describe("Replaces the image's ENTRYPOINT"),
  cpus: z.number().positive().default(1),
  memory: sizeSchema.default('512Mi'),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name'), z.string()).default({}),
  network: z.enum(['none', 'host']).default('none').describe('none (loopback only) or host'),
  tenant: nameSchema.default('default'),
  priority: z.number().int().default(0),
  timeout_ms: z.number().int().positive().optional(),
});
export type ExecRequest = z.input<typeof execRequestSchema>;

export interface ExecOptions {
  store: StateStore;
  home: string;
  pool: ResourcePool;
  onLine?(line: string, stream: 'stdout' | 'stderr'): void;
  signal?: AbortSignal;
  docker?: Docker;
  /** Called once the run is recorded (the API answers then; the output goes to the run's log). */
  onRunStart?(run: RunRecord): void;
}

/** The attempt of an exec run is recorded under this stage name (it has no ETL stages). */
const EXEC_STAGE = 'exec' as StageName;

/** What `docker run` would exit with: the container's code, 128+signal, 125 when it could not start. */
function exitCodeOf(exit: TaskExit | null): number {
  if (!exit) return 125;
  if (exit.code !== null) return exit.code;
  return exit.oomKilled || exit.signal === 'SIGKILL' ? 137 : exit.signal === 'SIGTERM' ? 143 : 1;
}

function errorOf(exit: TaskExit, memoryBytes: number): RunError | null {
  if (exit.timedOut) return { stage: EXEC_STAGE, name: 'TimeoutError', message: 'the container timed out and was killed', retryable: true };
  if (exit.cancelled) return { stage: EXEC_STAGE, name: 'CancelledError', message: 'the container was cancelled', retryable: false };
  if (exit.oomKilled) return { stage: EXEC_STAGE, name: 'OutOfMemory', message: `the container ran out of memory: killed by the kernel at its limit of ${formatBytes(memoryBytes)} (--memory)`, retryable: false };
  if (exit.code === 0) return null;
  return { stage: EXEC_STAGE, name: 'ExitCode', message: exit.signal ? `the container was killed by ${exit.signal}` : `the container exited with code ${exit.code}`, retryable: false };
}

/**
 * Runs one container through the pool, streaming its output, and records it as a run (trigger `exec`)
 * with one attempt and its logs, so `runs`, `show` and `logs` show it like any other run.
 */
export async function execContainer(input: ExecRequest, options: ExecOptions): Promise<{ run: RunRecord; exitCode: number }> {
  const parsed = execRequestSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SpecError(`exec request: ${issue.path.join('.') || '(root)'}: ${issue.message}`, { details: { where: issue.path.join('.'), expected: issue.message } });
  }
  const req = parsed.data;
  const memoryBytes = parseSize(req.memory)!;
  const { store, home, pool } = options;
  const docker = options.docker ?? dockerClient();
  const now = new Date().toISOString();
  const run: RunRecord = {
    id: newRunId(), job: 'exec', tenant: req.tenant, status: 'running', trigger: 'exec', jobFile: '', buffer: '',
    params: { image: req.image, command: JSON.stringify(req.command) }, createdAt: now, startedAt: now, finishedAt: null, error: null, figures: {},
    runner: runnerId(), slot: null,
  };
  await store.createRun(run);
  options.onRunStart?.({ ...run });
  const log = runLogger(home, run.job, run.id);
  log.info(`exec ${req.image} ${req.command.join(' ')}`.trim(), { image: req.image, command: req.command, cpus: req.cpus, memory: memoryBytes, network: req.network });
  const user = containerUser();
  const executor = new PooledExecutor({
    name: 'docker',
    start: async (task) => {
      await reapOnce(docker);
      return runContainer(docker, {
        image: req.image, cmd: req.command, ...(req.entrypoint ? { entrypoint: req.entrypoint } : {}),
        env: { HOME: '/tmp', ...req.env }, cpus: req.cpus, memoryBytes, network: req.network, binds: [], user: `${user.uid}:${user.gid}`,
        labels: { 'datamill.runner': runnerId(), 'datamill.tenant': req.tenant, 'datamill.job': 'exec', 'datamill.run': run.id, 'datamill.stage': 'exec', 'datamill.attempt': '1' },
        timeoutMs: task.timeoutMs, onLine: task.onLine,
      });
    },
  }, pool, { tenant: req.tenant, job: 'exec', priority: () => req.priority });
  let started = Date.now();
  let exit: TaskExit | null = null;
  let error: RunError | null = null;
  try {
    const handle = await executor.start({
      run: run.id, stage: EXEC_STAGE, attempt: 1, args: req.command, env: req.env, resources: { cpus: req.cpus, memoryBytes }, timeoutMs: req.timeout_ms ?? null,
      ...(options.signal ? { signal: options.signal } : {}),
      onLine(line, stream) {
        log.log(stream === 'stderr' ? 'warn' : 'info', line, { stage: 'exec', attempt: 1, stream });
        options.onLine?.(line, stream);
      },
    });
    // The attempt starts once the pool has admitted it and its container runs: time spent waiting for
    // the pool is not the container's (and the records then show what ran at once).
    started = Date.now();
    await store.startAttempt({
      runId: run.id, stage: EXEC_STAGE, attempt: 1, status: 'running', executor: 'docker', taskId: handle.id, startedAt: new Date(started).toISOString(), finishedAt: null,
      exitCode: null, signal: null, error: null, rowsIn: null, rowsOut: null, rowsRejected: null, bytesOut: null, durationMs: null, peakRssBytes: null, cpuSeconds: null,
    });
    const onAbort = () => handle.cancel();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    exit = await handle.wait().finally(() => options.signal?.removeEventListener('abort', onAbort));
    error = errorOf(exit, memoryBytes);
    await store.finishAttempt(run.id, EXEC_STAGE, 1, {
      status: error ? 'failed' : 'succeeded', finishedAt: new Date().toISOString(), exitCode: exitCodeOf(exit), signal: exit.signal, error,
      durationMs: Date.now() - started, peakRssBytes: exit.usage.peakRssBytes, cpuSeconds: exit.usage.cpuSeconds,
    });
  } catch (thrown) {
    const err = asDatamillError(thrown);
    error = { stage: null, name: err.name, message: redact(err.message), retryable: err.retryable };
  }
  const exitCode = exitCodeOf(exit);
  run.status = options.signal?.aborted ? 'interrupted' : error ? 'failed' : 'succeeded';
  run.error = error;
  run.figures = { exit_code: exitCode };
  run.finishedAt = new Date().toISOString();
  await store.updateRun(run.id, { status: run.status, error, figures: run.figures, finishedAt: run.finishedAt });
  if (error) log.log(exit ? 'error' : 'fatal', `exec ${run.status}: ${error.message}`, { exit_code: exitCode });
  else log.info('exec succeeded', { exit_code: exitCode });
  await new Promise<void>((done) => {
    log.on('finish', () => done());
    log.end();
  });
  return { run, exitCode };
}
