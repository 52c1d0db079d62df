import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { FileBuffer } from '../../src/buffer/file-buffer.js';
import type { Manifest, StageRef } from '../../src/buffer/manifest.js';
import type { RawBatch } from '../../src/core/connector.js';
import { SourceError } from '../../src/core/errors.js';
import * as ndjson from '../../adapters/ndjson/index.js';
import { readNdjsonPart } from '../../adapters/ndjson/reader.js';
import { testStageContext } from '../support/stage-context.js';

interface Extracted {
  manifest: Manifest;
  records: unknown[];
  lines: number[];
  origins: string[];
  columns: Array<readonly string[] | null>;
  broken: NonNullable<RawBatch['broken']>;
}

/** Extracts through a real FileBuffer with the given config, then reads the committed parts back. */
async function extractAndRead(dir: string, config: Record<string, unknown>): Promise<Extracted> {
  const parsed = ndjson.config.parse({ from: 'ndjson', ...config });
  const bufferDir = mkdtempSync(join(tmpdir(), 'datamill-ndjson-buffer-'));
  const buffer = new FileBuffer(`file://${bufferDir}`, bufferDir);
  const ctx = testStageContext({ baseDir: dir });
  const ref: StageRef = { tenant: ctx.tenant, job: ctx.job, run: ctx.run, stage: 'extract' };
  const writer = await buffer.begin(ref, 1);
  const result = await ndjson.createSource(parsed).extract(ctx, writer);
  await writer.commit({ tenant: ref.tenant, job: ref.job, run: ref.run, stage: 'extract', attempt: 1, format: result.format, parts: result.parts, figures: {} });
  const manifest = await buffer.readManifest(ref);
  assert.ok(manifest);
  const out: Extracted = { manifest, records: [], lines: [], origins: [], columns: [], broken: [] };
  for await (const batch of ndjson.reader.read(manifest, (p) => buffer.openPart(ref, p), testStageContext({ stage: 'adapt', baseDir: dir }))) {
    out.columns.push(batch.columns);
    for (const [i, r] of batch.records.entries()) {
      out.records.push(r);
      out.lines.push(batch.lines[i] as number);
      out.origins.push(batch.origin);
    }
    out.broken.push(...(batch.broken ?? []));
  }
  return out;
}

test('ndjson files in a glob come back as objects in sorted file order with line numbers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'datamill-ndjson-'));
  mkdirSync(join(dir, 'logs'));
  writeFileSync(join(dir, 'logs', 'b.ndjson'), '{"id":3,"tags":["x"]}\n');
  writeFileSync(join(dir, 'logs', 'a.ndjson'), '{"id":1,"name":"Zoë"}\r\n\n{"id":2,"nested":{"k":null}}');
  const got = await extractAndRead(dir, { path: 'logs/*.ndjson' });
  assert.deepEqual(got.records, [{ id: 1, name: 'Zoë' }, { id: 2, nested: { k: null } }, { id: 3, tags: ['x'] }]);
  assert.deepEqual(got.lines, [1, 3, 1]);
  assert.deepEqual(got.origins, ['logs/a.ndjson', 'logs/a.ndjson', 'logs/b.ndjson']);
  assert.ok(got.columns.every((c) => c === null));
  assert.equal(got.manifest.format, 'ndjson');
  assert.deepEqual(got.manifest.parts.map((p) => [p.name, p.rows]), [['part-00000.ndjson', 3], ['part-00001.ndjson', 1]]);
});

test('lines that are not JSON objects are broken entries with the line and the reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'datamill-ndjson-'));
  writeFileSync(join(dir, 'mixed.ndjson'), '{"ok":1}\n{"bad":\n[1,2]\n"text"\n{"ok":2}\n');
  const got = await extractAndRead(dir, { path: 'mixed.ndjson' });
  assert.deepEqual(got.records, [{ ok: 1 }, { ok: 2 }]);
  assert.deepEqual(got.lines, [1, 5]);
  assert.deepEqual(got.broken.map((b) => [b.line, b.raw]), [[2, '{"bad":'], [3, '[1,2]'], [4, '"text"']]);
  assert.match(got.broken[0]?.reason ?? '', /^invalid JSON: /);
  assert.equal(got.broken[1]?.reason, 'not a JSON object: the line holds an array');
  assert.equal(got.broken[2]?.reason, 'not a JSON object: the line holds a string');
});

test('gzipped ndjson is verified while copied and inflated while read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'datamill-ndjson-'));
  writeFileSync(join(dir, 'events.ndjson.gz'), gzipSync('{"a":1}\n{"a":2}\n'));
  const got = await extractAndRead(dir, { path: 'events.ndjson.gz' });
  assert.deepEqual(got.records, [{ a: 1 }, { a: 2 }]);
  assert.equal(got.manifest.parts[0]?.compression, 'gzip');
  assert.equal(got.manifest.parts[0]?.name, 'part-00000.ndjson.gz');

  const big = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ i, pad: 'p'.repeat(i % 50) })).join('\n');
  const gz = gzipSync(big);
  writeFileSync(join(dir, 'cut.ndjson.gz'), gz.subarray(0, gz.length - 100));
  await assert.rejects(extractAndRead(dir, { path: 'cut.ndjson.gz' }), (err: unknown) => {
    assert.ok(err instanceof SourceError);
    assert.match(err.message, /cut\.ndjson\.gz/);
    return true;
  });
});

test('ndjson read in 1-byte chunks keeps multibyte characters and line numbers intact', async () => {
  const text = '\uFEFF{"city":"Köln 😀"}\r\n\r\n{"city":"€"}\n';
  const part = { name: 'part-00000.ndjson', rows: 0, bytes: 0, sha256: '', origin: 'x.ndjson' };
  const chunks = Array.from(Buffer.from(text), (b) => Buffer.from([b]));
  const records: unknown[] = [];
  const lines: number[] = [];
  for await (const b of readNdjsonPart(part, Readable.from(chunks))) {
    records.push(...b.records);
    lines.push(...b.lines);
  }
  assert.deepEqual(records, [{ city: 'Köln 😀' }, { city: '€' }]);
  assert.deepEqual(lines, [1, 3]);
});

test('a missing ndjson file fails naming the path and where it resolved to', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'datamill-ndjson-'));
  await assert.rejects(extractAndRead(dir, { path: 'nope.ndjson' }), {
    name: 'SourceError',
    message: `no such file: nope.ndjson (resolved to ${join(dir, 'nope.ndjson')})`,
  });
});
