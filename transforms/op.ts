import type { z } from 'zod';
import type { Row, Schema } from '../src/core/schema.js';
import type { StageLogger } from '../src/core/stage-context.js';

export type Emit = (row: Row) => void;
/** Keeps a row out of the output, with why; it lands in the stage's `_rejects/`. */
export type Reject = (row: Row, reason: string, field?: string) => void;

/** A row operation that streams: one row in, zero or more out. */
export interface StreamOp {
  readonly kind: 'stream';
  readonly output: Schema;
  push(row: Row, emit: Emit, reject: Reject): void;
  /** End of input: rows the op was still holding (group), in batches. */
  end?(): AsyncIterable<Row[]> | Iterable<Row[]>;
}

/**
 * An operation that must see every row before it can emit any (flatten discovering keys, impute by
 * mean). The pipeline spills its input to disk while it observes, then replays it through `plan()`.
 */
export interface TwoPassOp {
  readonly kind: 'two-pass';
  observe(row: Row): void;
  plan(): StreamOp;
}

export type CompiledOp = StreamOp | TwoPassOp;

export interface CompileContext {
  /** The op's place in the job file, e.g. `transform[2].derive`, for error messages. */
  readonly where: string;
  /** Scratch folder for spills. */
  readonly tmpDir: string;
  readonly log: StageLogger;
}

/** One transform: its name in YAML, the zod schema of its config, and how to compile it against a schema. */
export interface TransformDef<C = unknown> {
  readonly name: string;
  readonly description: string;
  readonly config: z.ZodType<C>;
  compile(config: C, input: Schema, ctx: CompileContext): CompiledOp;
}
