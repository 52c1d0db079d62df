import type { StageWriter } from '../buffer/buffer.js';
import type { TypedInput } from '../core/connector.js';
import type { Row, Schema } from '../core/schema.js';
import type { StageContext } from '../core/stage-context.js';
import type { JobSpec } from '../spec/job-schema.js';
import { transformSteps } from '../spec/steps.js';
import { runTransforms } from '../../transforms/pipeline.js';
import { RejectWriter, TypedPartsWriter } from './typed-writer.js';

function rowObject(schema: Schema, row: Row): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  schema.forEach((f, i) => (o[f.name] = f.type === 'timestamp' && typeof row[i] === 'number' ? new Date(row[i] as number).toISOString() : row[i]));
  return o;
}

/** The transform stage: typed rows in, the job's row operations applied in order, typed rows out. */
export async function runTransformStage(spec: JobSpec, input: TypedInput, out: StageWriter, ctx: StageContext): Promise<Record<string, number | string>> {
  const rejects = new RejectWriter(out);
  let rowsIn = 0;
  async function* counted(): AsyncGenerator<Row[]> {
    for await (const batch of input.rows()) {
      rowsIn += batch.length;
      ctx.progress(batch.length);
      yield batch;
    }
  }
  const steps = transformSteps(spec).map(({ name, config, where }) => ({ name, config, where }));
  const result = await runTransforms(steps, { schema: input.schema, batches: counted() }, {
    where: 'transform',
    tmpDir: ctx.tmpDir,
    log: ctx.log,
    reject: (row, schema, reason, where, field) => rejects.add({ where, field: field ?? null, reason, record: rowObject(schema, row) }),
  });
  const writer = new TypedPartsWriter(out, result.schema);
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
