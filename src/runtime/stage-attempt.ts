import type winston from 'winston';
import type { StageName } from '../buffer/manifest.js';
import { bufferTaskEnv } from '../buffer/s3-url.js';
import type { LoadedJob } from '../spec/load-job.js';
import { formatBytes } from '../spec/units.js';
import { EXIT_OK, EXIT_RETRYABLE } from '../stage/exit-codes.js';
import type { RunError, RunRecord, StateStore } from '../state/store.js';
import type { Executor, PreparedTask, TaskSpec } from './executor.js';

/** The `datamill stage …` command line of one attempt (DESIGN §4). */
export function stageArgs(run: RunRecord, baseDir: string, stage: StageName, attempt: number): string[] {
  return ['stage', '--buffer', run.buffer, '--base-dir', baseDir, '--tenant', run.tenant, '--job', run.job, '--run', run.id, '--stage', stage, '--attempt', String(attempt)];
}

export interface AttemptOutcome {
  ok: boolean;
  error: RunError | null;
  figures: Record<string, number | string>;
}

interface StageResultLine {
  type: 'result';
  ok: boolean;
  figures?: Record<string, number | string>;
  error?: { name: string; message: string; retryable: boolean; where?: string };
  usage?: { max_rss_bytes: number; cpu_seconds: number };
}

/** The same input under the same limit runs out again: not retryable; the fix is `resources.memory`. */
function outOfMemory(stage: StageName, limit: number | undefined): RunError {
  const at = limit ? ` of ${formatBytes(limit)}` : '';
  return { stage, name: 'OutOfMemory', message: `${stage} ran out of memory: killed by the kernel at its memory limit${at}; raise resources.memory for this stage`, retryable: false, where: `${stage}.resources.memory` };
}

const num = (v: unknown) => (typeof v === 'number' ? v : null);

/** Runs one attempt of one stage on the executor, streaming its output into the run log, and records it. */
export async function runStageAttempt(a: {
  job: LoadedJob; run: RunRecord; stage: StageName; attempt: number; settings: { timeoutMs: number | null; cpus: number; memoryBytes: number };
  log: winston.Logger; store: StateStore; executor: Executor; signal?: AbortSignal; drain?: AbortSignal; onProgress(rows: number): void;
  /** This attempt's process, started ahead of time by the runtime. */
  prepared?: PreparedTask;
  /** Called once the attempt's task runs (admitted by the pool), not while it waits for it. */
  onRunning?(): void;
}): Promise<AttemptOutcome> {
  const { run, stage, attempt, log, store } = a;
  const started = Date.now();
  let result: StageResultLine | null = null;
  const task: TaskSpec = {
    run: run.id, stage, attempt,
    args: stageArgs(run, a.job.baseDir, stage, attempt),
    env: bufferTaskEnv(run.buffer, a.job.baseDir),
    resources: { cpus: a.settings.cpus, memoryBytes: a.settings.memoryBytes },
    timeoutMs: a.settings.timeoutMs,
    tenant: run.tenant, job: run.job,
    ...(a.signal ? { signal: a.signal } : {}),
    ...(a.drain ? { drain: a.drain } : {}),
    onLine(line, stream) {
      let entry: Record<string, unknown> | null = null;
      if (line.startsWith('{')) {
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          entry = null;
        }
      }
      if (entry?.type === 'progress') return a.onProgress(Number(entry.rows));
      if (entry?.type === 'result') {
        result = entry as unknown as StageResultLine;
        return;
      }
      if (entry && typeof entry.level === 'string' && typeof entry.message === 'string') {
        const { level, message, ...meta } = entry;
        log.log(level, message, { ...meta, stage, attempt });
      } else log.log(stream === 'stderr' ? 'error' : 'info', line, { stage, attempt, stream });
    },
  };
  // A pre-started process that died while waiting never ran this stage: start a fresh one instead.
  if (a.prepared && !a.prepared.alive()) log.warn(`${stage}: the pre-started process exited before it was needed; starting a new one`, { stage, attempt });
  const handle = a.prepared?.alive() ? a.prepared.go(task) : await a.executor.start(task);
  await store.startAttempt({
    runId: run.id, stage, attempt, status: 'running', executor: a.executor.name, taskId: handle.id, startedAt: new Date(started).toISOString(), finishedAt: null,
    exitCode: null, signal: null, error: null, rowsIn: null, rowsOut: null, rowsRejected: null, bytesOut: null, durationMs: null, peakRssBytes: null, cpuSeconds: null,
  });
  if (a.onRunning) void (handle.running ?? Promise.resolve()).then(() => a.onRunning!());
  const onAbort = () => handle.cancel();
  if (a.signal?.aborted) handle.cancel();
  a.signal?.addEventListener('abort', onAbort, { once: true });
  const exit = await handle.wait();
  a.signal?.removeEventListener('abort', onAbort);
  const r = result as StageResultLine | null;
  const ok = exit.code === EXIT_OK && r?.ok === true;
  let error: RunError | null = null;
  if (!ok) {
    if (exit.timedOut) error = { stage, name: 'TimeoutError', message: `${stage} timed out after ${a.settings.timeoutMs} ms`, retryable: true };
    else if (exit.cancelled) error = { stage, name: 'CancelledError', message: `${stage} was cancelled`, retryable: false };
    else if (exit.oomKilled) error = outOfMemory(stage, exit.memoryLimitBytes);
    else if (exit.failure) error = { stage, ...exit.failure };
    else if (r?.error) error = { stage, name: r.error.name, message: r.error.message, retryable: r.error.retryable || exit.code === EXIT_RETRYABLE, ...(r.error.where ? { where: r.error.where } : {}) };
    else if (exit.signal) error = { stage, name: 'TaskKilled', message: `${stage} process was killed by ${exit.signal}`, retryable: true };
    else error = { stage, name: 'TaskCrashed', message: `${stage} process exited with code ${exit.code} without reporting a result`, retryable: exit.code === EXIT_RETRYABLE };
  }
  const figures = r?.figures ?? {};
  const out = figures.rows_out ?? figures.rows_loaded;
  await store.finishAttempt(run.id, stage, attempt, {
    status: ok ? 'succeeded' : 'failed', finishedAt: new Date().toISOString(), exitCode: exit.code, signal: exit.signal, error,
    rowsIn: num(figures.rows_in), rowsOut: num(out), rowsRejected: num(figures.rows_rejected), bytesOut: num(figures.bytes_out),
    durationMs: Date.now() - started,
    peakRssBytes: r?.usage?.max_rss_bytes ?? exit.usage.peakRssBytes, cpuSeconds: r?.usage?.cpu_seconds ?? exit.usage.cpuSeconds,
  });
  if (ok) log.info(`${stage} attempt ${attempt} succeeded`, { stage, attempt, ...figures, duration_ms: Date.now() - started });
  else log.log(error!.retryable ? 'error' : 'fatal', `${stage} attempt ${attempt} failed: ${error!.message}`, { stage, attempt, exit_code: exit.code, signal: exit.signal });
  return { ok, error, figures };
}
