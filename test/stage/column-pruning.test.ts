import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBuffer } from '../../src/buffer/file-buffer.js';
import type { StageRef } from '../../src/buffer/manifest.js';
import type { Row, Schema } from '../../src/core/schema.js';
import type { JobSpec } from '../../src/spec/job-schema.js';
import { passThroughNames, planColumnPruning, type PlannedStep } from '../../src/stage/column-pruning.js';
import { runTransformStage } from '../../src/stage/transform-stage.js';
import { typedInput } from '../../src/stage/typed-input.js';
import { TypedPartsWriter } from '../../src/stage/typed-writer.js';
import { testStageContext } from '../support/stage-context.js';

const schema: Schema = [
  { name: 'id', type: 'integer' },
  { name: 'ts', type: 'timestamp' },
  { name: 'name', type: 'string' },
  { name: 'price', type: 'decimal' },
  { name: 'score', type: 'number' },
  { name: 'ok', type: 'boolean' },
  { name: 'day', type: 'date' },
  { name: 'meta', type: 'json' },
  { name: 'views', type: 'integer' },
  { name: 'clicks', type: 'integer' },
];

function steps(list: Record<string, unknown>[]): PlannedStep[] {
  return list.map((step, i) => {
    const [name, config] = Object.entries(step)[0]!;
    return { name, config, where: `transform[${i}].${name}` };
  });
}

function plan(list: Record<string, unknown>[]) {
  const ctx = testStageContext({ stage: 'transform' });
  return planColumnPruning(schema, steps(list), ctx);
}

test('columns no filter or derive expression reads pass through, and the ones read are decoded', () => {
  const p = plan([{ filter: 'views > 0' }, { derive: { ctr: 'clicks / views' } }]);
  assert.deepEqual(passThroughNames(schema, p), ['id', 'ts', 'name', 'price', 'score', 'ok', 'day', 'meta']);
  assert.deepEqual(p!.outputNames, [...schema.map((f) => f.name), 'ctr']);
  assert.deepEqual(p!.rawOutput, [true, true, true, true, true, true, true, true, false, false, false]);
});

test('a column read under its new name after a rename is decoded, and a renamed pass-through column stays raw', () => {
  const p = plan([{ rename: { views: 'v', name: 'label' } }, { filter: 'v > 0' }]);
  assert.deepEqual(passThroughNames(schema, p), ['id', 'ts', 'name', 'price', 'score', 'ok', 'day', 'meta', 'clicks']);
  assert.equal(p!.outputNames[2], 'label');
  assert.equal(p!.rawOutput[2], true, 'the renamed column is still carried as text');
  assert.equal(p!.rawOutput[8], false, 'v is decoded');
});

test('a derive that replaces a column makes it computed, while the original is read only if an expression uses it', () => {
  const p = plan([{ derive: { name: 'upper(name)', score: 'views * 2' } }]);
  assert.deepEqual(passThroughNames(schema, p), ['id', 'ts', 'price', 'score', 'ok', 'day', 'meta', 'clicks']);
  assert.equal(p!.rawOutput[2], false, 'name is computed');
  assert.equal(p!.rawOutput[4], false, 'score is computed from views, its old value never read');
  // An expression after the replacement reads the new value, not the input column.
  const q = plan([{ derive: { score: 'views * 2', twice: 'score * 2' } }]);
  assert.ok(passThroughNames(schema, q).includes('score'));
});

test('drop and a reordering select keep pass-through status by name', () => {
  const p = plan([{ drop: ['meta', 'ok'] }, { select: ['clicks', 'name', 'id', 'ts', 'views'] }, { filter: "name <> 'x'" }]);
  assert.deepEqual(p!.outputNames, ['clicks', 'name', 'id', 'ts', 'views']);
  assert.deepEqual(p!.rawOutput, [true, false, true, true, true]);
  // id and ts stay next to each other and in order: one span of two columns, written as one cell.
  assert.deepEqual(p!.outputLayout, [1, 0, 2, -1, 1]);
  assert.deepEqual(p!.inputLayout, [2, -1, 0, -2, -2, -2, -2, -2, 1, 1]);
});

test('a step other than filter, derive, rename, select or drop disables pruning', () => {
  assert.equal(plan([{ filter: 'views > 0' }, { impute: { views: 0 } }]), null);
  assert.equal(plan([{ group: { by: ['name'], count: 'n' } }]), null);
  assert.equal(plan([]), null);
});

test('steps that do not compile leave pruning off so the pipeline reports the error', () => {
  assert.equal(plan([{ filter: 'nosuch > 0' }]), null);
  assert.equal(plan([{ drop: ['nosuch'] }]), null);
});

const tricky: Row[] = [
  [1, Date.UTC(2026, 0, 31, 13, 45, 0, 123), 'tab\there', '12.50', 1.5, true, '2026-01-31', { a: [1, 'x\ty'], 'b\\': null }, 3, 1],
  [2, null, 'line\nbreak\r\nand \\ back', null, -0.25, false, null, 'just text', 0, 0],
  [3, Date.UTC(1970, 0, 1), '\\N', '-0.01', null, null, '1999-12-31', null, 7, 2],
  [4, Date.UTC(2030, 5, 6, 7, 8, 9), 'ünïcödé 🎉 日本', '1000000000000.99', 1e-7, true, '2000-02-29', [1, 2, { '10': 'z', '2': 'y' }], 5, null],
  [5, 0, '', '0', 0, false, '2026-03-01', 'N', null, 4],
  [9007199254740991, -1, '\\', '3', 123456789.125, true, '2026-12-31', { nested: { deep: '\\N' } }, 2, 2],
];

async function transformBytes(jobSteps: Record<string, unknown>[], pruning: boolean): Promise<{ text: string; rows: number; schema: Schema; passThrough: number }> {
  const root = mkdtempSync(join(tmpdir(), 'datamill-pruning-'));
  const buffer = new FileBuffer(`file://${root}`, root);
  const ctx = testStageContext({ stage: 'transform', run: 'r1' });
  const adapt: StageRef = { tenant: ctx.tenant, job: ctx.job, run: ctx.run, stage: 'adapt' };
  const w = await buffer.begin(adapt, 1);
  const writer = new TypedPartsWriter(w, schema);
  await writer.writeBatch(tricky);
  await w.commit({ ...adapt, attempt: 1, format: 'tsv', schema, parts: await writer.close(), figures: {} });
  const manifest = (await buffer.readManifest(adapt))!;
  const ref: StageRef = { ...adapt, stage: 'transform' };
  // Only `transform` is read by the stage; the rest of a job does not matter here.
  const spec = { transform: jobSteps } as unknown as JobSpec;
  const out = await buffer.begin(ref, 1);
  await runTransformStage(spec, typedInput(buffer, adapt, manifest), out, ctx, { pruning });
  const result = (await buffer.readManifest(ref))!;
  const text = result.parts.map((p) => readFileSync(join(root, 'default', ctx.job, ctx.run, 'transform', p.name), 'utf8')).join('');
  const planned = ctx.logs.find((l) => l.message.includes('pass through undecoded'));
  return { text, rows: result.rows, schema: result.schema!, passThrough: (planned?.meta?.columns as string[] | undefined)?.length ?? 0 };
}

/** Steps, and how many input columns they let pass through. */
const equivalenceCases: Record<string, [Record<string, unknown>[], number]> = {
  'filter and derive': [[{ filter: 'views > 0 or clicks is null' }, { derive: { ctr: 'clicks / views' } }], 8],
  'rename, select reordering and drop': [[{ rename: { name: 'label', meta: 'm' } }, { select: ['m', 'label', 'ts', 'id', 'price', 'views'] }, { drop: ['price'] }], 10],
  'derive replacing pass-through and read columns': [[{ derive: { name: "concat(name, '!')", day: 'ts', score: 'views + 1' } }, { filter: 'id < 9' }], 6],
  'every column read': [[{ filter: "id > 0 and ts is not null or name <> '' or price > 0 or score > 0 or ok or day > '2000-01-01' or meta is null or views > 0 or clicks > 0" }], 0],
};

for (const [label, [jobSteps, passThrough]] of Object.entries(equivalenceCases)) {
  test(`the transform stage writes the same bytes with and without column pruning: ${label}`, async () => {
    const pruned = await transformBytes(jobSteps, true);
    const full = await transformBytes(jobSteps, false);
    assert.equal(pruned.passThrough, passThrough, 'columns carried undecoded');
    assert.equal(full.passThrough, 0);
    assert.ok(pruned.rows > 0, 'the case keeps some rows');
    assert.deepEqual(pruned.schema, full.schema);
    assert.equal(pruned.rows, full.rows);
    assert.equal(pruned.text, full.text);
  });
}
