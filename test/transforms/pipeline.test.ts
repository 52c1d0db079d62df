import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { TransformError } from '../../src/core/errors.js';
import type { Row, Schema } from '../../src/core/schema.js';
import { runTransforms, type PipelineContext } from '../../transforms/pipeline.js';
import { testStageContext } from '../support/stage-context.js';

interface Rejected {
  reason: string;
  where: string;
  field?: string;
  schema: Schema;
  row: Row;
}

function pipelineContext(): PipelineContext & { rejects: Rejected[]; logs: ReturnType<typeof testStageContext>['logs'] } {
  const stage = testStageContext({ stage: 'transform' });
  const rejects: Rejected[] = [];
  return {
    where: 'transform',
    tmpDir: stage.tmpDir,
    log: stage.log,
    logs: stage.logs,
    rejects,
    reject(row, schema, reason, where, field) {
      rejects.push(field === undefined ? { row, schema, reason, where } : { row, schema, reason, where, field });
    },
  };
}

async function* batchesOf(rows: Row[], size: number): AsyncIterable<Row[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

async function collect(batches: AsyncIterable<Row[]>): Promise<Row[]> {
  const out: Row[] = [];
  for await (const b of batches) out.push(...b);
  return out;
}

const schema: Schema = [
  { name: 'id', type: 'integer' },
  { name: 'raw', type: 'string' },
  { name: 'payload', type: 'json' },
];

test('steps chain in order: parse, filter, a two-pass flatten, derive and group', async () => {
  const rows: Row[] = [];
  for (let i = 0; i < 3000; i++) rows.push([i, i % 10 === 0 ? 'oops' : String(i % 7), { site: `s${i % 3}`, n: { v: i } }]);
  const ctx = pipelineContext();
  const result = await runTransforms(
    [
      { name: 'parse', config: { raw: { as: 'integer' } }, where: 'transform[0].parse' },
      { name: 'filter', config: 'raw > 0', where: 'transform[1].filter' },
      { name: 'flatten', config: { field: 'payload', prefix: '' }, where: 'transform[2].flatten' },
      { name: 'derive', config: { weight: 'raw * 2' }, where: 'transform[3].derive' },
      { name: 'group', config: { by: ['site'], count: 'rows', sum: ['weight'], max: ['n_v'] }, where: 'transform[4].group' },
    ],
    { schema, batches: batchesOf(rows, 256) },
    ctx,
  );
  assert.deepEqual(result.schema, [
    { name: 'site', type: 'string' },
    { name: 'rows', type: 'integer' },
    { name: 'weight', type: 'integer' },
    { name: 'n_v', type: 'integer' },
  ]);
  const out = (await collect(result.batches)).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  const expected = new Map<string, [number, number, number]>();
  for (const [i] of rows as [number][]) {
    if (i % 10 === 0 || i % 7 === 0) continue;
    const e = expected.get(`s${i % 3}`) ?? [0, 0, 0];
    expected.set(`s${i % 3}`, [e[0] + 1, e[1] + (i % 7) * 2, Math.max(e[2], i)]);
  }
  assert.deepEqual(out, [...expected].sort().map(([site, v]) => [site, ...v]));
  assert.equal(ctx.rejects.length, 300);
  assert.equal(ctx.rejects[0]!.where, 'transform[0].parse');
  assert.equal(ctx.rejects[0]!.reason, "raw: 'oops' is not a safe integer (decimal '.')");
  assert.deepEqual(ctx.rejects[0]!.schema, schema);
  assert.deepEqual(readdirSync(ctx.tmpDir), [], 'the two-pass spill file is removed after replay');
});

test('an unknown step names where it is and the transforms that exist', async () => {
  await assert.rejects(
    runTransforms([{ name: 'groupby', config: {}, where: 'transform[2].groupby' }], { schema, batches: batchesOf([], 1) }, pipelineContext()),
    (err: unknown) => err instanceof TransformError && /^transform\[2\]\.groupby: unknown transform 'groupby'; known: filter, derive, rename, select, drop, impute, flatten, parse, group$/.test(err.message),
  );
});

test('a later step is compiled against the schema the earlier steps produce', async () => {
  await assert.rejects(
    runTransforms(
      [
        { name: 'rename', config: { raw: 'text' }, where: 'transform[0].rename' },
        { name: 'drop', config: ['raw'], where: 'transform[1].drop' },
      ],
      { schema, batches: batchesOf([], 1) },
      pipelineContext(),
    ),
    /^TransformError: transform\[1\]\.drop: unknown column 'raw'; known: id, text, payload$/,
  );
});

test('rows of every type survive the two-pass spill file unchanged', async () => {
  const all: Schema = [
    { name: 's', type: 'string' },
    { name: 'i', type: 'integer' },
    { name: 'n', type: 'number' },
    { name: 'd', type: 'decimal' },
    { name: 'b', type: 'boolean' },
    { name: 't', type: 'timestamp' },
    { name: 'dt', type: 'date' },
    { name: 'j', type: 'json' },
  ];
  const rows: Row[] = [
    ['tab\there\nnew\\line', -5, 0.1, '-12.500', true, Date.UTC(2026, 1, 3, 4, 5, 6, 789), '2026-02-03', { a: 'x\ty', b: [1, null] }],
    [null, null, null, null, null, null, null, null],
    ['', 0, -1e-300, '0', false, 0, '0001-01-01', 'plain'],
  ];
  const result = await runTransforms([{ name: 'impute', config: { i: { strategy: 'mean' } }, where: 'transform[0].impute' }], { schema: all, batches: batchesOf(rows, 2) }, pipelineContext());
  const out = await collect(result.batches);
  assert.deepEqual(out, [rows[0], [null, -3, null, null, null, null, null, null], rows[2]]);
});
