import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RAW_READER_LOADERS, SINK_LOADERS, SOURCE_LOADERS } from '../../adapters/loaders.js';
import type { StageBuffer } from '../buffer/buffer.js';
import type { StageName, StageRef } from '../buffer/manifest.js';
import { openBuffer } from '../buffer/open-buffer.js';
import { asDatamillError, BufferError, NotSupportedError, type DatamillError } from '../core/errors.js';
import { faultPoint } from '../core/faults.js';
import type { StageContext } from '../core/stage-context.js';
import { asStageLogger, stageProcessLogger } from '../log/logger.js';
import type { JobSpec } from '../spec/job-schema.js';
import { redact, resolveSecrets } from '../spec/secrets.js';
import { runAdapt } from './adapt.js';
import { EXIT_FAILED, EXIT_OK, EXIT_RETRYABLE } from './exit-codes.js';
import { nextStdinLine } from './stdin-lines.js';
import { inputStageOf } from './plan.js';
import { rejectsOfFailedLoad } from './load-rejects.js';
import { typedInput } from './typed-input.js';
import { extractRange } from '../runtime/incremental-cursor.js';
import { RejectWriter } from './typed-writer.js';

export interface StageArgs {
  /** Wait for "go" on stdin before reading anything (a pre-started or spare process). */
  hold?: boolean;
  buffer: string;
  baseDir: string;
  tenant: string;
  job: string;
  run: string;
  stage: StageName;
  attempt: number;
}


type Figures = Record<string, number | string>;

function emit(record: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(record) + '\n');
}

async function requireManifest(buffer: StageBuffer, ref: StageRef) {
  const m = await buffer.readManifest(ref);
  if (!m) throw new BufferError(`the ${ref.stage} stage of run ${ref.run} has no committed output (no _manifest.json); run it first`, { details: { where: ref.stage } });
  return m;
}

async function execute(spec: JobSpec, buffer: StageBuffer, ctx: StageContext): Promise<Figures> {
  const ref: StageRef = { tenant: ctx.tenant, job: ctx.job, run: ctx.run, stage: ctx.stage };
  const inputStage = inputStageOf(spec, ctx.stage);
  const inputRef = inputStage ? { ...ref, stage: inputStage } : null;
  switch (ctx.stage) {
    case 'extract': {
      const load = SOURCE_LOADERS[spec.extract.from];
      if (!load) throw new NotSupportedError(`extract.from: ${spec.extract.from} sources are not supported yet`);
      const createSource = await load();
      const range = await extractRange(buffer, ref);
      const out = await buffer.begin(ref, ctx.attempt);
      const result = await createSource(spec.extract as never).extract(ctx, out, range);
      const rows = result.parts.reduce((a, p) => a + p.rows, 0);
      const figures = { rows_out: rows, ...(result.figures ?? {}) };
      await out.commit({ tenant: ctx.tenant, job: ctx.job, run: ctx.run, stage: 'extract', attempt: ctx.attempt, format: result.format, ...(result.csv ? { csv: result.csv } : {}), ...(result.cursor ? { cursor: result.cursor } : {}), parts: result.parts, figures });
      return figures;
    }
    case 'adapt': {
      const input = await requireManifest(buffer, inputRef!);
      if (input.format === 'tsv') throw new BufferError('adapt expects raw csv/ndjson parts from extract');
      const out = await buffer.begin(ref, ctx.attempt);
      const outcome = await runAdapt(spec.adapt, input, await RAW_READER_LOADERS[input.format](), (p) => buffer.openPart(inputRef!, p), out, ctx);
      // On failure the rejects are committed (and the typed parts dropped) so the reasons can be read.
      await out.commit({ tenant: ctx.tenant, job: ctx.job, run: ctx.run, stage: 'adapt', attempt: ctx.attempt, format: 'tsv', schema: outcome.schema, parts: outcome.failure ? [] : outcome.parts, rejects: outcome.rejects, figures: { ...outcome.figures, ...(outcome.failure ? { failed: outcome.failure.message } : {}) } });
      if (outcome.failure) throw outcome.failure;
      return outcome.figures;
    }
    case 'transform': {
      const input = await requireManifest(buffer, inputRef!);
      const out = await buffer.begin(ref, ctx.attempt);
      const { runTransformStage } = await import('./transform-stage.js');
      return runTransformStage(spec, typedInput(buffer, inputRef!, input), out, ctx);
    }
    case 'load': {
      const input = await requireManifest(buffer, inputRef!);
      const loadSink = SINK_LOADERS[spec.load.to];
      if (!loadSink) throw new NotSupportedError(`load.to: ${spec.load.to} sinks are not supported yet`);
      const createSink = await loadSink();
      const out = await buffer.begin(ref, ctx.attempt);
      const rejects = new RejectWriter(out);
      const sinkRejects = { add: async (r: Record<string, unknown>) => { rejects.add(r); await rejects.flush(); }, get rows() { return rejects.rows; } };
      let result;
      try {
        result = await createSink(spec.load as never).load(ctx, typedInput(buffer, inputRef!, input), sinkRejects);
      } catch (err) {
        // Like adapt: a failed load still commits what the target refused, so the reasons can be read.
        for (const r of rejectsOfFailedLoad(err)) rejects.add(r);
        if (rejects.rows > 0) await out.commit({ tenant: ctx.tenant, job: ctx.job, run: ctx.run, stage: 'load', attempt: ctx.attempt, format: 'tsv', parts: [], rejects: await rejects.close(), figures: { rows_in: input.rows, rows_out: 0, rows_rejected: rejects.rows, failed: redact(asDatamillError(err).message) } });
        else await out.abort();
        throw err;
      }
      for (const r of result.rejects ?? []) rejects.add(r);
      const figures: Figures = { rows_in: input.rows, rows_out: result.rowsLoaded, target: result.target, ...(rejects.rows > 0 ? { rows_rejected: rejects.rows } : {}), ...(result.alreadyLoaded ? { already_loaded: 'true' } : {}), ...(result.figures ?? {}) };
      await out.commit({ tenant: ctx.tenant, job: ctx.job, run: ctx.run, stage: 'load', attempt: ctx.attempt, format: 'tsv', parts: [], rejects: await rejects.close(), figures });
      return figures;
    }
  }
}

/** `datamill stage …`: runs one stage of one run as this process, reporting on stdout as JSON lines. */
export async function runStageProcess(args: StageArgs): Promise<number> {
  const logger = stageProcessLogger({ job: args.job, run: args.run, stage: args.stage, attempt: args.attempt });
  const log = asStageLogger(logger);
  const abort = new AbortController();
  const onSignal = () => abort.abort(new Error('stage cancelled by signal'));
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const tmp = mkdtempSync(join(tmpdir(), `datamill-${args.stage}-`));
  let rows = 0;
  let lastReport = 0;
  let started = Date.now();
  let cpuAtGo = 0;
  const ctx: StageContext = {
    tenant: args.tenant, job: args.job, run: args.run, stage: args.stage, attempt: args.attempt,
    log, signal: abort.signal, baseDir: args.baseDir, tmpDir: tmp,
    progress(n) {
      rows += n;
      const now = Date.now();
      if (now - lastReport >= 200) {
        lastReport = now;
        emit({ type: 'progress', rows });
      }
    },
    secret: (v) => resolveSecrets(v, args.baseDir),
  };
  let code = EXIT_OK;
  try {
    const buffer = openBuffer(args.buffer, args.baseDir);
    const text = await buffer.getRunFile(args, '_job.json');
    if (text === null) throw new BufferError(`run ${args.run} has no _job.json in ${args.buffer}`);
    const spec = JSON.parse(text) as JobSpec;
    await preload(spec, args.stage);
    // Pre-started by the runtime: ready now, but nothing is read until the stage before has committed.
    if (args.hold === true || process.env.DATAMILL_STAGE_HOLD === '1') {
      faultPoint(args, 'held');
      if (!(await waitForGo())) return EXIT_OK;
      // Figures count from "go": the time and CPU spent loading code while held are start-up, not work.
      started = Date.now();
      cpuAtGo = cpuSeconds();
    }
    log.info(`${args.stage} started`, { attempt: args.attempt });
    faultPoint(ctx, 'start');
    const figures = await execute(spec, buffer, ctx);
    log.info(`${args.stage} finished`, { ...figures, duration_ms: Date.now() - started });
    emit({ type: 'progress', rows });
    emit({ type: 'result', ok: true, figures, usage: usage(cpuAtGo) });
  } catch (thrown) {
    const err: DatamillError = asDatamillError(thrown);
    const level = err.retryable ? 'error' : 'fatal';
    log[level](redact(err.message), { error: err.name, retryable: err.retryable, ...(err.details.where ? { where: err.details.where } : {}) });
    if (process.env.DATAMILL_LOG_LEVEL === 'debug' && err.stack) log.debug(redact(err.stack));
    emit({ type: 'result', ok: false, error: { name: err.name, message: redact(err.message), retryable: err.retryable, where: err.details.where }, usage: usage(cpuAtGo) });
    code = err.retryable ? EXIT_RETRYABLE : EXIT_FAILED;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return code;
}

/** Imports the code a stage will need, so a held (pre-started) stage is ready the moment it is let go. */
async function preload(spec: JobSpec, stage: StageName): Promise<void> {
  if (stage === 'extract') await SOURCE_LOADERS[spec.extract.from]?.();
  if (stage === 'adapt') await Promise.all(Object.values(RAW_READER_LOADERS).map((l) => l()));
  if (stage === 'transform') await import('./transform-stage.js');
  if (stage === 'load') await SINK_LOADERS[spec.load.to]?.();
}

/** A held stage waits for "go" on stdin; stdin closing without it means the runtime discarded it. */
async function waitForGo(): Promise<boolean> {
  for (;;) {
    const line = await nextStdinLine();
    if (line === null) return false;
    if (line === 'go') return true;
  }
}

function cpuSeconds(): number {
  const u = process.resourceUsage();
  return (u.userCPUTime + u.systemCPUTime) / 1e6;
}

function usage(cpuBefore: number) {
  return { max_rss_bytes: process.resourceUsage().maxRSS * 1024, cpu_seconds: cpuSeconds() - cpuBefore };
}
