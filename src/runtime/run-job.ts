import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type winston from 'winston';
import type { StageBuffer } from '../buffer/buffer.js';
import type { StageName } from '../buffer/manifest.js';
import { fileBufferRoot } from '../buffer/file-buffer.js';
import { openBuffer } from '../buffer/open-buffer.js';
import { bufferTaskEnv } from '../buffer/s3-url.js';
import { asDatamillError, BufferError, SpecError } from '../core/errors.js';
import { runLogger } from '../log/run-log.js';
import type { LoadedJob } from '../spec/load-job.js';
import { redact } from '../spec/secrets.js';
import { parseDuration, parseSize } from '../spec/units.js';
import { inputStageOf, stagesOf } from '../stage/plan.js';
import type { RunError, RunRecord, StateStore } from '../state/store.js';
import type { Executor, PreparedTask } from './executor.js';
import { runStageAttempt, stageArgs, type AttemptOutcome } from './stage-attempt.js';
import { commitCursor, recordCursorStart } from './incremental-cursor.js';
import { runnerId } from './orphans.js';
import { assertSupported } from './support-check.js';
import { stageSection } from './stage-section.js';

export type RunEvent =
  | { type: 'run-start'; run: RunRecord; stages: StageName[] }
  | { type: 'stage-start'; stage: StageName; attempt: number; totalRows: number | null }
  | { type: 'progress'; stage: StageName; rows: number }
  | { type: 'stage-end'; stage: StageName; attempt: number; outcome: AttemptOutcome }
  | { type: 'retry'; stage: StageName; attempt: number; delayMs: number; error: RunError }
  | { type: 'run-end'; run: RunRecord };

export interface RunOptions {
  store: StateStore;
  /** Where stages run; a function picks it from the job spec (replay reads the spec from the buffer). */
  executor: Executor | ((spec: LoadedJob['spec']) => Executor);
  /** The Datamill home (state, logs); relative buffer paths resolve against the working directory. */
  home: string;
  params?: Record<string, string>;
  trigger?: string;
  /** The scheduled time this run was fired for (the scheduler's fire key); absent for runs started by hand. */
  slot?: string;
  onEvent?(event: RunEvent): void;
  signal?: AbortSignal;
  /** Called once the run's end is recorded (e.g. Slack notifications); a throw is logged, never fails the run. */
  onRunEnd?(run: RunRecord, job: LoadedJob): Promise<void>;
  /** Graceful shutdown (serve): once aborted no new stage or retry starts; the stage in flight finishes. */
  drain?: AbortSignal;
}

export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

function absoluteBuffer(url: string): string {
  // A real file URL (percent-encoded), so folders named with '#', '?' or '%' survive the round trip.
  return url.startsWith('file://') && !url.startsWith('file:///') ? pathToFileURL(fileBufferRoot(url, process.cwd())).href : url;
}

interface StageSettings {
  attempts: number;
  backoffMs: number;
  maxBackoffMs: number;
  timeoutMs: number | null;
  cpus: number;
  memoryBytes: number;
}

function settingsOf(job: LoadedJob, stage: StageName): StageSettings {
  const spec = job.spec;
  const section = stageSection(spec, stage);
  const retries = section.retries ?? spec.retries ?? { attempts: 3, backoff: '10s', max_backoff: '10m' };
  const timeout = section.timeout ?? spec.timeout;
  const resources = section.resources ?? spec.resources ?? { cpus: 1, memory: '512Mi' };
  return {
    attempts: retries.attempts,
    backoffMs: parseDuration(retries.backoff) ?? 10_000,
    maxBackoffMs: parseDuration(retries.max_backoff) ?? 600_000,
    timeoutMs: timeout === undefined ? null : parseDuration(timeout),
    cpus: resources.cpus,
    memoryBytes: parseSize(resources.memory) ?? 512 * 1024 ** 2,
  };
}

/**
 * One run of a job: records it, hands the spec to the buffer, then runs each stage as an isolated task,
 * retrying retryable failures (and crashes) with exponential backoff from the stage's committed input.
 */
export async function runJob(job: LoadedJob, options: RunOptions): Promise<RunRecord> {
  const { store, executor, home } = options;
  const spec = job.spec;
  const id = newRunId();
  const bufferUrl = absoluteBuffer(spec.buffer);
  const run: RunRecord = {
    id, job: spec.job, tenant: spec.tenant, status: 'running', trigger: options.trigger ?? 'manual', jobFile: resolve(job.file), buffer: bufferUrl,
    params: options.params ?? {}, createdAt: new Date().toISOString(), startedAt: new Date().toISOString(), finishedAt: null, error: null, figures: {},
    runner: runnerId(),
    slot: options.slot ?? null,
  };
  await store.createRun(run);
  return executeRun(job, run, stagesOf(spec), options, async (buffer) => {
    await buffer.putRunFile({ tenant: spec.tenant, job: spec.job, run: id }, '_job.json', JSON.stringify(spec, null, 2));
    await recordCursorStart(store, buffer, run, spec);
  });
}

/**
 * Starts a recorded run again from its beginning, as the same run: for a run whose runner died before
 * its job spec reached the buffer (nothing of it ran), so that its slot keeps one run, not two.
 */
export async function restartRun(job: LoadedJob, runId: string, options: RunOptions): Promise<RunRecord> {
  const { store } = options;
  const run = await store.getRun(runId);
  if (!run) throw new BufferError(`no run ${runId} to restart`);
  const spec = job.spec;
  Object.assign(run, {
    status: 'running', jobFile: resolve(job.file), buffer: absoluteBuffer(spec.buffer), params: options.params ?? run.params,
    startedAt: new Date().toISOString(), finishedAt: null, error: null, runner: runnerId(),
  });
  await store.updateRun(run.id, { status: run.status, jobFile: run.jobFile, buffer: run.buffer, params: run.params, startedAt: run.startedAt, finishedAt: null, error: null, runner: run.runner });
  const previous = await store.listAttempts(run.id);
  const firstAttempt = (stage: StageName) => 1 + Math.max(0, ...previous.filter((a) => a.stage === stage).map((a) => a.attempt));
  return executeRun(job, run, stagesOf(spec), options, async (buffer) => {
    await buffer.putRunFile({ tenant: spec.tenant, job: spec.job, run: run.id }, '_job.json', JSON.stringify(spec, null, 2));
    await recordCursorStart(store, buffer, run, spec);
  }, firstAttempt);
}

/**
 * Replays an earlier run from one stage on (DESIGN §2 `replay`): the stage re-reads the committed output of
 * the stage before it, with the job spec the run was started with (from the buffer), as new attempts of
 * the same run. A replayed load of a run that already committed is a no-op (the load ledger).
 */
export async function replayRun(runId: string, from: StageName, options: RunOptions): Promise<RunRecord> {
  const run = await options.store.findRun(runId);
  if (!run) throw new BufferError(`no run matches '${runId}'`);
  const baseDir = dirname(run.jobFile);
  const text = await openBuffer(run.buffer, baseDir).getRunFile({ tenant: run.tenant, job: run.job, run: run.id }, '_job.json');
  if (text === null) throw new BufferError(`run ${run.id} has no job spec in its buffer (${run.buffer}); was it removed?`);
  const spec = JSON.parse(text) as LoadedJob['spec'];
  const all = stagesOf(spec);
  if (!all.includes(from)) throw new SpecError(`run ${run.id} has no ${from} stage (its stages: ${all.join(', ')})`);
  const previous = await options.store.listAttempts(run.id);
  const firstAttempt = (stage: StageName) => 1 + Math.max(0, ...previous.filter((a) => a.stage === stage).map((a) => a.attempt));
  Object.assign(run, { status: 'running', startedAt: new Date().toISOString(), finishedAt: null, error: null, runner: runnerId() });
  await options.store.updateRun(run.id, { status: 'running', startedAt: run.startedAt, finishedAt: null, error: null, runner: run.runner });
  return executeRun({ file: run.jobFile, baseDir, spec, source: text }, run, all.slice(all.indexOf(from)), options, async () => undefined, firstAttempt);
}

async function executeRun(job: LoadedJob, run: RunRecord, stages: StageName[], options: RunOptions, prepare: (buffer: StageBuffer) => Promise<void>, firstAttempt: (stage: StageName) => number = () => 1): Promise<RunRecord> {
  const { store, home } = options;
  const spec = job.spec;
  const id = run.id;
  const log = runLogger(home, spec.job, id);
  options.onEvent?.({ type: 'run-start', run, stages });
  log.info(`run ${id} of ${spec.job} started${stages[0] !== 'extract' ? ` (replay from ${stages[0]})` : ''}`, { trigger: run.trigger, stages, job_file: run.jobFile, buffer: run.buffer });
  try {
    assertSupported(spec);
    const executor = typeof options.executor === 'function' ? options.executor(spec) : options.executor;
    const opts = { ...options, executor };
    if (spec.schedule) log.info('schedule is used by `datamill serve`; this run starts now');
    if (spec.resources && spec.executor === 'process') log.info('resources are what each stage asks of the resource pool; the process executor does not enforce them as hard limits (the docker executor does)');
    const buffer = openBuffer(run.buffer, job.baseDir);
    await prepare(buffer);
    let target: string | number | undefined;
    let prepared: PreparedTask | undefined;
    try {
      for (const [i, stage] of stages.entries()) {
        throwIfCancelled(options.signal, stage);
        throwIfCancelled(options.drain, stage);
        const mine = prepared;
        prepared = undefined;
        // Start the next stage's process once this stage runs, so its start-up overlaps this stage's work.
        // Not earlier: runs waiting for the pool (a server firing many jobs at once) would each hold a
        // process that costs a start-up and memory while it cannot run anyway.
        const next = stages[i + 1];
        const prepareNext = () => {
          if (next && executor.prepare && !prepared && !options.signal?.aborted && !options.drain?.aborted) prepared = prepareStage(job, run, next, firstAttempt(next), executor);
        };
        try {
          target = (await runStage(job, run, stage, buffer, log, opts, firstAttempt(stage), mine, prepareNext)).target ?? target;
        } finally {
          mine?.discard();
        }
      }
    } finally {
      prepared?.discard();
    }
    // The load has committed: only now may an incremental source's high-water mark move.
    await commitCursor(store, buffer, run, spec, log);
    const final = { ...(await summarize(store, id)), ...(target === undefined ? {} : { target }) };
    await finish(store, run, 'succeeded', null, final, log);
  } catch (thrown) {
    const err = asDatamillError(thrown);
    const error: RunError = (thrown as { runError?: RunError }).runError ?? { stage: null, name: err.name, message: redact(err.message), retryable: err.retryable };
    await finish(store, run, options.signal?.aborted || options.drain?.aborted ? 'interrupted' : 'failed', error, await summarize(store, id), log);
  }
  if (options.onRunEnd) {
    try {
      await options.onRunEnd(run, job);
    } catch (err) {
      log.warn(`run-end hook failed: ${redact(err instanceof Error ? err.message : String(err))}`);
    }
  }
  options.onEvent?.({ type: 'run-end', run });
  await new Promise<void>((done) => {
    log.on('finish', () => done());
    log.end();
  });
  return run;
}

async function finish(store: StateStore, run: RunRecord, status: RunRecord['status'], error: RunError | null, figures: RunRecord['figures'], log: winston.Logger): Promise<void> {
  run.status = status;
  run.error = error;
  run.figures = figures;
  run.finishedAt = new Date().toISOString();
  await store.updateRun(run.id, { status, error, figures, finishedAt: run.finishedAt });
  if (status === 'succeeded') log.info(`run succeeded`, figures);
  else log.log(error?.retryable ? 'error' : 'fatal', `run ${status}: ${error?.stage ? error.stage + ': ' : ''}${error?.message ?? ''}`, { ...figures });
}

/** Headline figures from the last successful attempt of each stage. */
async function summarize(store: StateStore, runId: string): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = {};
  for (const a of await store.listAttempts(runId)) {
    if (a.status !== 'succeeded') continue;
    if (a.stage === 'extract' && a.rowsOut !== null) out.rows_extracted = a.rowsOut;
    if (a.stage === 'adapt' && a.rowsRejected !== null) out.rows_rejected = a.rowsRejected;
    if (a.stage === 'transform' && a.rowsRejected) out.rows_rejected_in_transform = a.rowsRejected;
    if (a.stage === 'load' && a.rowsOut !== null) out.rows_loaded = a.rowsOut;
    if (a.stage === 'load' && a.rowsRejected) out.rows_rejected_in_load = a.rowsRejected;
  }
  return out;
}

function prepareStage(job: LoadedJob, run: RunRecord, stage: StageName, attempt: number, executor: Executor): PreparedTask {
  const s = settingsOf(job, stage);
  return executor.prepare!({ run: run.id, stage, attempt, args: stageArgs(run, job.baseDir, stage, attempt), env: bufferTaskEnv(run.buffer, job.baseDir), resources: { cpus: s.cpus, memoryBytes: s.memoryBytes } });
}

async function runStage(job: LoadedJob, run: RunRecord, stage: StageName, buffer: StageBuffer, log: winston.Logger, options: RunOptions & { executor: Executor }, firstAttempt: number, prepared?: PreparedTask, onRunning?: () => void): Promise<Record<string, number | string>> {
  const s = settingsOf(job, stage);
  const input = inputStageOf(job.spec, stage);
  const inputManifest = input ? await buffer.readManifest({ tenant: run.tenant, job: run.job, run: run.id, stage: input }) : null;
  const lastAttempt = firstAttempt + s.attempts - 1;
  for (let attempt = firstAttempt; ; attempt++) {
    options.onEvent?.({ type: 'stage-start', stage, attempt, totalRows: inputManifest?.rows ?? null });
    const ahead = attempt === firstAttempt ? prepared : undefined;
    const outcome = await runStageAttempt({ job, run, stage, attempt, settings: s, log, store: options.store, executor: options.executor, ...(options.signal ? { signal: options.signal } : {}), ...(options.drain ? { drain: options.drain } : {}), ...(ahead ? { prepared: ahead } : {}), ...(onRunning ? { onRunning } : {}), onProgress: (rows) => options.onEvent?.({ type: 'progress', stage, rows }) });
    options.onEvent?.({ type: 'stage-end', stage, attempt, outcome });
    if (outcome.ok) return outcome.figures;
    const error = outcome.error!;
    if (!error.retryable || attempt >= lastAttempt || options.signal?.aborted || options.drain?.aborted) {
      const why = !error.retryable ? 'not retryable' : attempt >= lastAttempt ? `after ${s.attempts} attempt${s.attempts > 1 ? 's' : ''}` : 'cancelled';
      log.log('error', `${stage} failed (${why})`, { stage, attempt });
      throw Object.assign(new Error(error.message), { runError: error });
    }
    const delayMs = Math.min(s.backoffMs * 2 ** (attempt - firstAttempt), s.maxBackoffMs);
    log.warn(`${stage} attempt ${attempt} failed; retrying in ${delayMs} ms`, { stage, attempt, error: error.message });
    options.onEvent?.({ type: 'retry', stage, attempt, delayMs, error });
    await sleep(delayMs, undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
    throwIfCancelled(options.signal, stage);
  }
}

/** Ctrl-C / SIGTERM: no new stage or attempt starts once the run is cancelled. */
function throwIfCancelled(signal: AbortSignal | undefined, stage: StageName): void {
  if (!signal?.aborted) return;
  const error: RunError = { stage, name: 'CancelledError', message: `cancelled before ${stage} could finish`, retryable: false };
  throw Object.assign(new Error(error.message), { runError: error });
}
