import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBuffer } from '../../src/buffer/file-buffer.js';
import type { StageRef } from '../../src/buffer/manifest.js';

const ref: StageRef = { tenant: 'acme', job: 'j', run: 'r1', stage: 'adapt' };

async function writeStage(buffer: FileBuffer, attempt: number, text: string, commit = true) {
  const w = await buffer.begin(ref, attempt);
  const p = w.part('part-00000.tsv');
  await p.write(text);
  const info = await p.close(text.split('\n').length - 1);
  if (commit) await w.commit({ tenant: ref.tenant, job: ref.job, run: ref.run, stage: ref.stage, attempt, format: 'tsv', schema: [{ name: 'a', type: 'string' }], parts: [info], figures: {} });
  return w;
}

test('a stage output exists only once its manifest is committed, at the documented path', async () => {
  const root = mkdtempSync(join(tmpdir(), 'buf-'));
  const buffer = new FileBuffer(`file://${root}`, root);
  await writeStage(buffer, 1, 'x\ny\n', false);
  assert.equal(await buffer.readManifest(ref), null, 'parts without a manifest are not output');
  await writeStage(buffer, 2, 'x\ny\n');
  const m = await buffer.readManifest(ref);
  assert.equal(m!.rows, 2);
  assert.equal(m!.parts[0]!.sha256, createHash('sha256').update('x\ny\n').digest('hex'));
  assert.deepEqual(readdirSync(join(root, 'acme/j/r1/adapt')).sort(), ['_manifest.json', '_rejects', 'part-00000.tsv']);
  assert.equal(readFileSync(join(root, 'acme/j/r1/adapt/part-00000.tsv'), 'utf8'), 'x\ny\n');
});

test('re-running a stage replaces its whole output and leaves no attempt folders behind', async () => {
  const root = mkdtempSync(join(tmpdir(), 'buf-'));
  const buffer = new FileBuffer(`file://${root}`, root);
  await writeStage(buffer, 1, 'old\nold\nold\n');
  await writeStage(buffer, 2, 'new\n');
  const m = await buffer.readManifest(ref);
  assert.deepEqual([m!.attempt, m!.rows], [2, 1]);
  assert.equal(readFileSync(join(root, 'acme/j/r1/adapt/part-00000.tsv'), 'utf8'), 'new\n');
  assert.deepEqual(readdirSync(join(root, 'acme/j/r1')), ['adapt']);
});

test('an aborted attempt leaves the committed output untouched', async () => {
  const root = mkdtempSync(join(tmpdir(), 'buf-'));
  const buffer = new FileBuffer(`file://${root}`, root);
  await writeStage(buffer, 1, 'keep\n');
  const w = await writeStage(buffer, 2, 'half', false);
  await w.abort();
  assert.equal((await buffer.readManifest(ref))!.attempt, 1);
  assert.equal(readFileSync(join(root, 'acme/j/r1/adapt/part-00000.tsv'), 'utf8'), 'keep\n');
});

test('a commit removes what earlier attempts killed mid-write left behind', async () => {
  const root = mkdtempSync(join(tmpdir(), 'buf-'));
  const buffer = new FileBuffer(`file://${root}`, root);
  await writeStage(buffer, 1, 'half', false);
  await writeStage(buffer, 2, 'also half', false);
  await writeStage(buffer, 3, 'done\n');
  assert.deepEqual(readdirSync(join(root, 'acme/j/r1')), ['adapt']);
});
