import type { Row, Schema } from '../../src/core/schema.js';
import type { CompileContext, StreamOp, TransformDef } from '../../transforms/op.js';
import { testStageContext } from '../support/stage-context.js';

export interface Rejected {
  row: Row;
  reason: string;
  field?: string;
}

export interface OpResult {
  schema: Schema;
  rows: Row[];
  rejects: Rejected[];
}

export function compileContext(where = 'transform[0]'): CompileContext & { logs: ReturnType<typeof testStageContext>['logs'] } {
  const stage = testStageContext({ stage: 'transform' });
  return { where, tmpDir: stage.tmpDir, log: stage.log, logs: stage.logs };
}

/** Runs one transform over rows held in memory, both passes included, as the pipeline would. */
export async function runOp<C>(def: TransformDef<C>, config: unknown, schema: Schema, rows: Row[], ctx: CompileContext = compileContext(`transform[0].${def.name}`)): Promise<OpResult> {
  const compiled = def.compile(config as C, schema, ctx);
  let op: StreamOp;
  if (compiled.kind === 'two-pass') {
    for (const row of rows) compiled.observe(row);
    op = compiled.plan();
  } else {
    op = compiled;
  }
  const out: Row[] = [];
  const rejects: Rejected[] = [];
  const emit = (row: Row) => void out.push(row);
  const reject = (row: Row, reason: string, field?: string) => void rejects.push(field === undefined ? { row, reason } : { row, reason, field });
  for (const row of rows) op.push(row, emit, reject);
  if (op.end) for await (const batch of op.end()) out.push(...batch);
  return { schema: op.output, rows: out, rejects };
}

/** The error a compile throws, for asserting on its message. */
export function compileError<C>(def: TransformDef<C>, config: unknown, schema: Schema, where = `transform[3].${def.name}`): Error {
  try {
    def.compile(config as C, schema, compileContext(where));
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the compile to fail');
}
