import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import type { StageBuffer } from '../../src/buffer/buffer.js';
import type { StageRef } from '../../src/buffer/manifest.js';
import { openBuffer } from '../../src/buffer/open-buffer.js';
import { testBucket } from '../support/s3-bucket.js';

/** One buffer under test and a way to list what it holds under a run, independently of the buffer. */
interface Subject {
  buffer: StageBuffer;
  /** Every stored file/object under `acme/j/r1/`, relative to it, sorted. */
  stored(): Promise<string[]>;
}

const ref: StageRef = { tenant: 'acme', job: 'j', run: 'r1', stage: 'adapt' };

function walk(dir: string, root: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name), root) : [relative(root, join(dir, e.name))]));
}

const subjects: Record<string, () => Promise<Subject>> = {
  'file://': async () => {
    const root = mkdtempSync(join(tmpdir(), 'buf-'));
    const run = join(root, 'acme/j/r1');
    return { buffer: openBuffer(`file://${root}`, root), stored: async () => walk(run, run).filter((p) => !p.startsWith('.')).sort() };
  },
  's3://': async () => {
    const bucket = await testBucket();
    return { buffer: openBuffer(bucket.bufferUrl('buffers/main'), process.cwd()), stored: async () => (await bucket.keys('buffers/main/acme/j/r1/')).map((k) => k.slice('buffers/main/acme/j/r1/'.length)) };
  },
};

async function text(stream: Readable): Promise<string> {
  let out = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) out += chunk.toString('utf8');
  return out;
}

async function writeStage(buffer: StageBuffer, attempt: number, body: string, commit = true) {
  const w = await buffer.begin(ref, attempt);
  const p = w.part('part-00000.tsv');
  await p.write(body);
  const info = await p.close(body.split('\n').length - 1);
  if (commit) await w.commit({ tenant: ref.tenant, job: ref.job, run: ref.run, stage: ref.stage, attempt, format: 'tsv', schema: [{ name: 'a', type: 'string' }], parts: [info], figures: {} });
  return w;
}

/** What a committed stage must hold: its manifest and exactly the parts it lists, nothing else. */
async function assertOnlyManifestAndParts(s: Subject): Promise<void> {
  const m = await s.buffer.readManifest(ref);
  const expected = ['adapt/_manifest.json', ...m!.parts.map((p) => `adapt/${p.name}`), ...(m!.rejects?.parts ?? []).map((p) => `adapt/_rejects/${p.name}`)].sort();
  assert.deepEqual((await s.stored()).filter((k) => k !== '_job.json'), expected);
}

for (const [kind, make] of Object.entries(subjects)) {
  describe(`the ${kind} buffer`, () => {
    test('a stage output exists only once its manifest is committed, at the documented path', async () => {
      const s = await make();
      await writeStage(s.buffer, 1, 'x\ny\n', false);
      assert.equal(await s.buffer.readManifest(ref), null, 'parts without a manifest are not output');
      await writeStage(s.buffer, 2, 'x\ny\n');
      const m = await s.buffer.readManifest(ref);
      assert.equal(m!.rows, 2);
      assert.equal(m!.parts[0]!.sha256, createHash('sha256').update('x\ny\n').digest('hex'));
      assert.deepEqual(await s.stored(), ['adapt/_manifest.json', 'adapt/part-00000.tsv']);
      assert.equal(await text(s.buffer.openPart(ref, m!.parts[0]!)), 'x\ny\n');
    });

    test('re-running a stage replaces its whole output and leaves nothing of the old attempt behind', async () => {
      const s = await make();
      await writeStage(s.buffer, 1, 'old\nold\nold\n');
      await writeStage(s.buffer, 2, 'new\n');
      const m = await s.buffer.readManifest(ref);
      assert.deepEqual([m!.attempt, m!.rows], [2, 1]);
      assert.equal(await text(s.buffer.openPart(ref, m!.parts[0]!)), 'new\n');
      await assertOnlyManifestAndParts(s);
    });

    test('an aborted attempt leaves the committed output untouched', async () => {
      const s = await make();
      await writeStage(s.buffer, 1, 'keep\n');
      const w = await writeStage(s.buffer, 2, 'half', false);
      await w.abort();
      const m = await s.buffer.readManifest(ref);
      assert.equal(m!.attempt, 1);
      assert.equal(await text(s.buffer.openPart(ref, m!.parts[0]!)), 'keep\n');
      await assertOnlyManifestAndParts(s);
    });

    test('a commit removes what earlier attempts killed mid-write left behind', async () => {
      const s = await make();
      const w = await s.buffer.begin(ref, 1);
      for (const i of [0, 1, 2]) await w.part(`part-0000${i}.tsv`).close(0);
      await writeStage(s.buffer, 2, 'also half', false);
      await writeStage(s.buffer, 3, 'done\n');
      await assertOnlyManifestAndParts(s);
    });

    test('rejects, gzip flags and run files round-trip; removeRun and listRuns see whole runs', async () => {
      const s = await make();
      const w = await s.buffer.begin(ref, 1);
      const part = w.part('part-00000.csv.gz', { origin: 'in/a.csv.gz', compression: 'gzip' });
      await part.write(Buffer.from([0x1f, 0x8b, 1, 2]));
      const r = w.rejectPart('rejects-00000.ndjson');
      await r.write('{"reason":"bad"}\n');
      const m = await w.commit({ tenant: ref.tenant, job: ref.job, run: ref.run, stage: ref.stage, attempt: 1, format: 'csv', parts: [await part.close(3)], rejects: [await r.close(1)], figures: { rows_in: 4 } });
      assert.deepEqual([m.parts[0]!.origin, m.parts[0]!.compression, m.rejects!.rows], ['in/a.csv.gz', 'gzip', 1]);
      assert.equal(await text(s.buffer.openReject(ref, m.rejects!.parts[0]!)), '{"reason":"bad"}\n');
      await s.buffer.putRunFile(ref, '_job.json', '{"job":"j"}');
      assert.equal(await s.buffer.getRunFile(ref, '_job.json'), '{"job":"j"}');
      assert.equal(await s.buffer.getRunFile(ref, 'missing.json'), null);
      await assertOnlyManifestAndParts(s);
      const runs = [];
      for await (const run of s.buffer.listRuns()) runs.push(run);
      assert.deepEqual(runs.map((x) => [x.tenant, x.job, x.run]), [['acme', 'j', 'r1']]);
      assert.ok(Date.now() - runs[0]!.lastModified.getTime() < 3_600_000, 'last write is recent');
      await s.buffer.removeRun(ref);
      assert.equal(await s.buffer.readManifest(ref), null);
      const after = [];
      for await (const run of s.buffer.listRuns()) after.push(run);
      assert.deepEqual(after, []);
    });

    test('a part larger than one upload piece streams through intact', async () => {
      const s = await make();
      const w = await s.buffer.begin(ref, 1);
      const p = w.part('part-00000.tsv');
      const hash = createHash('sha256');
      const chunk = randomBytes(1 << 20);
      for (let i = 0; i < 20; i++) {
        hash.update(chunk);
        await p.write(chunk);
      }
      const info = await p.close(0);
      await w.commit({ tenant: ref.tenant, job: ref.job, run: ref.run, stage: ref.stage, attempt: 1, format: 'tsv', parts: [info], figures: {} });
      const back = createHash('sha256');
      let bytes = 0;
      for await (const c of s.buffer.openPart(ref, info) as AsyncIterable<Buffer>) {
        back.update(c);
        bytes += c.length;
      }
      assert.equal(bytes, 20 << 20);
      assert.equal(back.digest('hex'), hash.digest('hex'));
      assert.equal(info.sha256, createHash('sha256').update(Buffer.concat(Array.from({ length: 20 }, () => chunk))).digest('hex'));
    });
  });
}
