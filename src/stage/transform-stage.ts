import type { StageWriter } from '../buffer/buffer.js';
import type { TypedInput } from '../core/connector.js';
import type { Row, Schema } from '../core/schema.js';
import type { StageContext } from '../core/stage-context.js';
import type { JobSpec } from '../spec/job-schema.js';
import { transformSteps } from '../spec/steps.js';
import { runTransforms } from '../../transforms/pipeline.js';
import { planColumnPruning, passThroughNames } from './column-pruning.js';
import { decodedParts } from './typed-input.js';
import { RejectWriter, TypedPartsWriter } from './typed-writer.js';

function rowObject(schema: Schema, row: Row): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  schema.forEach((f, i) => (o[f.name] = f.type === 'timestamp' && typeof row[i] === 'number' ? new Date(row[i] as number).toISOString() : row[i]));
  return o;
}

export interface TransformStageOptions {
  /** Carry columns no expression reads as raw COPY text (default true; false decodes every column). */
  pruning?: boolean;
}

/** The transform stage: typed rows in, the job's row operations applied in order, typed rows out. */
export async function runTransformStage(spec: JobSpec, input: TypedInput, out: StageWriter, ctx: StageContext, options: TransformStageOptions = {}): Promise<Record<string, number | string>> {
  const rejects = new RejectWriter(out);
  const steps = transformSteps(spec).map(({ name, config, where }) => ({ name, config, where }));
  let plan = options.pruning === false ? null : planColumnPruning(input.schema, steps, { tmpDir: ctx.tmpDir, log: ctx.log });
  if (plan !== null) ctx.log.debug(`transform: ${passThroughNames(input.schema, plan).length} of ${input.schema.length} columns pass through undecoded`, { columns: passThroughNames(input.schema, plan) });
  let rowsIn = 0;
  async function* counted(): AsyncGenerator<Row[]> {
    for await (const batch of plan === null ? input.rows() : decodedParts(input.parts(), input.schema, plan.inputLayout)) {
      rowsIn += batch.length;
      ctx.progress(batch.length);
      yield batch;
    }
  }
  const result = await runTransforms(steps, { schema: input.schema, batches: counted() }, {
    where: 'transform',
    tmpDir: ctx.tmpDir,
    log: ctx.log,
    reject: (row, schema, reason, where, field) => rejects.add({ where, field: field ?? null, reason, record: rowObject(schema, row) }),
  });
  // No row has been read yet (counted() starts on the first batch pulled), so a plan that disagrees with
  // the compiled pipeline can still be dropped for full decoding.
  if (plan !== null && (plan.outputNames.length !== result.schema.length || plan.outputNames.some((name, i) => result.schema[i]!.name !== name))) {
    ctx.log.warn(`transform: column pruning disagrees with the compiled steps; decoding every column`, { planned: plan.outputNames.join(', ') });
    plan = null;
  }
  const writer = new TypedPartsWriter(out, result.schema, plan?.outputLayout);
  for await (const batch of result.batches) {
    await writer.writeBatch(batch);
    if (rejects.rows > 0) await rejects.flush();
  }
  const parts = await writer.close();
  const rejectParts = await rejects.close();
  const figures = { rows_in: rowsIn, rows_out: writer.rows, rows_rejected: rejects.rows };
  await out.commit({ tenant: ctx.tenant, job: ctx.job, run: ctx.run, stage: 'transform', attempt: ctx.attempt, format: 'tsv', schema: result.schema, parts, rejects: rejectParts, figures });
  return figures;
}
