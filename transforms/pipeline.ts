import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { TransformError } from '../src/core/errors.js';
import { lineBatches } from '../src/core/lines.js';
import { rowDecoder, rowEncoder } from '../src/core/row-codec.js';
import type { Row, Schema } from '../src/core/schema.js';
import type { CompileContext, Emit, Reject, StreamOp, TwoPassOp } from './op.js';
import { TRANSFORMS } from './index.js';

export interface TransformStep {
  name: string;
  config: unknown;
  /** Its place in the job file, e.g. `transform[2].group`. */
  where: string;
}

export interface PipelineInput {
  schema: Schema;
  batches: AsyncIterable<Row[]>;
}

export interface PipelineContext extends CompileContext {
  reject(row: Row, schema: Schema, reason: string, where: string, field?: string): void;
}

interface Stage {
  op: StreamOp;
  where: string;
  input: Schema;
}

/**
 * Pushes every batch through a chain of stream ops, synchronously row by row, then drains the ops that
 * hold rows (group) in order, each drained row going through the ops after it.
 */
async function* runChain(source: AsyncIterable<Row[]>, stages: Stage[], ctx: PipelineContext): AsyncGenerator<Row[]> {
  let out: Row[] = [];
  const n = stages.length;
  const emits: Emit[] = new Array(n + 1);
  const rejects: Reject[] = stages.map((s) => (row, reason, field) => ctx.reject(row, s.input, reason, s.where, field));
  emits[n] = (row) => {
    out.push(row);
  };
  for (let i = n - 1; i >= 0; i--) {
    const next = stages[i + 1]?.op;
    const nextEmit = emits[i + 1]!;
    const nextReject = rejects[i + 1]!;
    emits[i] = next === undefined ? nextEmit : (row) => next.push(row, nextEmit, nextReject);
  }
  if (n === 0) {
    yield* source;
    return;
  }
  const first = stages[0]!.op;
  const firstEmit = emits[0]!;
  const firstReject = rejects[0]!;
  for await (const batch of source) {
    for (let r = 0; r < batch.length; r++) first.push(batch[r]!, firstEmit, firstReject);
    if (out.length > 0) {
      yield out;
      out = [];
    }
  }
  for (let i = 0; i < n; i++) {
    const end = stages[i]!.op.end;
    if (end === undefined) continue;
    const emit = emits[i]!;
    for await (const batch of end.call(stages[i]!.op)) {
      for (let r = 0; r < batch.length; r++) emit(batch[r]!);
      if (out.length > 0) {
        yield out;
        out = [];
      }
    }
  }
}

let spillCounter = 0;

/**
 * Feeds every row reaching a two-pass op to `observe` while writing it to a spill file, then returns the
 * planned op and the file replayed as batches (the file is removed once read).
 */
async function materialize(op: TwoPassOp, schema: Schema, rows: AsyncIterable<Row[]>, ctx: PipelineContext, where: string): Promise<{ op: StreamOp; replay: AsyncIterable<Row[]>; rows: number }> {
  const file = join(ctx.tmpDir, `two-pass-${process.pid}-${++spillCounter}.tsv`);
  const encode = rowEncoder(schema);
  const out = createWriteStream(file);
  let count = 0;
  try {
    for await (const batch of rows) {
      let text = '';
      for (let r = 0; r < batch.length; r++) {
        const row = batch[r]!;
        op.observe(row);
        text += encode(row);
      }
      count += batch.length;
      if (!out.write(text)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
  } catch (err) {
    out.destroy();
    rmSync(file, { force: true });
    throw err;
  }
  const planned = op.plan();
  ctx.log.debug(`${where}: observed ${count} rows; replaying them`, { rows: count });
  const decode = rowDecoder(schema);
  async function* replay(): AsyncGenerator<Row[]> {
    try {
      if (count === 0) return;
      for await (const lines of lineBatches(createReadStream(file))) {
        const batch: Row[] = new Array(lines.length);
        for (let i = 0; i < lines.length; i++) batch[i] = decode(lines[i]!);
        yield batch;
      }
    } finally {
      rmSync(file, { force: true });
    }
  }
  return { op: planned, replay: replay(), rows: count };
}

/**
 * Compiles the steps against the input schema and returns the output schema and rows. Stream ops chain
 * per batch; at a two-pass op, everything before it runs to the end (into a spill file) so the op can
 * plan, and compiling resumes against its planned schema.
 */
export async function runTransforms(steps: TransformStep[], input: PipelineInput, ctx: PipelineContext): Promise<{ schema: Schema; batches: AsyncIterable<Row[]> }> {
  let source = input.batches;
  let schema = input.schema;
  let stages: Stage[] = [];
  for (const step of steps) {
    const def = TRANSFORMS[step.name];
    if (def === undefined) {
      throw new TransformError(`${step.where}: unknown transform '${step.name}'; known: ${Object.keys(TRANSFORMS).join(', ')}`, {
        details: { where: step.where, value: step.name, expected: Object.keys(TRANSFORMS).join(', ') },
      });
    }
    const compileCtx: CompileContext = { where: step.where, tmpDir: ctx.tmpDir, log: ctx.log };
    const op = def.compile(step.config, schema, compileCtx);
    if (op.kind === 'stream') {
      stages.push({ op, where: step.where, input: schema });
      schema = op.output;
      continue;
    }
    const done = await materialize(op, schema, runChain(source, stages, ctx), ctx, step.where);
    source = done.replay;
    stages = [{ op: done.op, where: step.where, input: schema }];
    schema = done.op.output;
  }
  return { schema, batches: runChain(source, stages, ctx) };
}
