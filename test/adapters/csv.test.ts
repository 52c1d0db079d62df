import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FileBuffer } from '../../src/buffer/file-buffer.js';
import type { Manifest, StageRef } from '../../src/buffer/manifest.js';
import type { RawBatch } from '../../src/core/connector.js';
import { SourceError } from '../../src/core/errors.js';
import * as csv from '../../adapters/csv/index.js';
import { testStageContext } from '../support/stage-context.js';

interface Extracted {
  manifest: Manifest;
  columns: readonly string[] | null;
  records: Array<string[]>;
  lines: number[];
  origins: string[];
  broken: NonNullable<RawBatch['broken']>;
  progress: number;
}

/** Extracts through a real FileBuffer with the given config, then reads the committed parts back. */
async function extractAndRead(dir: string, config: Record<string, unknown>): Promise<Extracted> {
  const parsed = csv.config.parse({ from: 'csv', ...config });
  const bufferDir = mkdtempSync(join(tmpdir(), 'datamill-csv-buffer-'));
  const buffer = new FileBuffer(`file://${bufferDir}`, bufferDir);
  const ctx = testStageContext({ baseDir: dir });
  const ref: StageRef = { tenant: ctx.tenant, job: ctx.job, run: ctx.run, stage: 'extract' };
  const writer = await buffer.begin(ref, 1);
  const result = await csv.createSource(parsed).extract(ctx, writer);
  const committed: Parameters<typeof writer.commit>[0] = { tenant: ref.tenant, job: ref.job, run: ref.run, stage: 'extract', attempt: 1, format: result.format, parts: result.parts, figures: {} };
  if (result.csv) committed.csv = result.csv;
  await writer.commit(committed);
  const manifest = await buffer.readManifest(ref);
  assert.ok(manifest);
  const out: Extracted = { manifest, columns: null, records: [], lines: [], origins: [], broken: [], progress: ctx.rows };
  for await (const batch of csv.reader.read(manifest, (p) => buffer.openPart(ref, p), testStageContext({ stage: 'adapt', baseDir: dir }))) {
    out.columns = batch.columns;
    for (const [i, r] of batch.records.entries()) {
      out.records.push(r as string[]);
      out.lines.push(batch.lines[i] as number);
      out.origins.push(batch.origin);
    }
    out.broken.push(...(batch.broken ?? []));
  }
  return out;
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'datamill-csv-'));
}

test('a header and quoted fields with embedded delimiters, newlines and doubled quotes come back as written', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'events.csv'), 'id,name,note\n1,plain,simple\n2,"Smith, John","said ""hi""\nthen left"\n3,,""\n');
  const got = await extractAndRead(dir, { path: 'events.csv' });
  assert.deepEqual(got.columns, ['id', 'name', 'note']);
  assert.deepEqual(got.records, [
    ['1', 'plain', 'simple'],
    ['2', 'Smith, John', 'said "hi"\nthen left'],
    ['3', '', ''],
  ]);
  assert.deepEqual(got.lines, [2, 3, 5]);
  assert.equal(got.manifest.rows, 4, 'the row figure counts lines after the header');
  assert.equal(got.manifest.parts[0]?.name, 'part-00000.csv');
  assert.equal(got.manifest.parts[0]?.origin, 'events.csv');
  assert.deepEqual(got.manifest.csv, { delimiter: ',', quote: '"', escape: '"', header: true, encoding: 'utf8' });
  assert.equal(got.progress, 4);
});

test('the raw part is a byte-for-byte copy of the source file', async () => {
  const dir = tempDir();
  const content = 'a;b\r\n1;"x;y"\r\n';
  writeFileSync(join(dir, 'x.csv'), content);
  const bufferDir = mkdtempSync(join(tmpdir(), 'datamill-csv-buffer-'));
  const buffer = new FileBuffer(`file://${bufferDir}`, bufferDir);
  const ctx = testStageContext({ baseDir: dir });
  const ref: StageRef = { tenant: ctx.tenant, job: ctx.job, run: ctx.run, stage: 'extract' };
  const writer = await buffer.begin(ref, 1);
  const result = await csv.createSource(csv.config.parse({ from: 'csv', path: 'x.csv', delimiter: ';' })).extract(ctx, writer);
  await writer.commit({ tenant: ref.tenant, job: ref.job, run: ref.run, stage: 'extract', attempt: 1, format: 'csv', parts: result.parts, figures: {} });
  assert.equal(readFileSync(join(buffer.localPath(ref), 'part-00000.csv'), 'utf8'), content);
});

test('semicolon and tab delimiters split fields, quoted delimiters stay inside', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'semi.csv'), 'a;b;c\n1;"2;3";4\n');
  writeFileSync(join(dir, 'tab.tsv'), 'a\tb\n"x\ty"\tz\n');
  const semi = await extractAndRead(dir, { path: 'semi.csv', delimiter: ';' });
  assert.deepEqual(semi.records, [['1', '2;3', '4']]);
  const tab = await extractAndRead(dir, { path: 'tab.tsv', delimiter: '\t' });
  assert.deepEqual(tab.columns, ['a', 'b']);
  assert.deepEqual(tab.records, [['x\ty', 'z']]);
});

test('CRLF line ends, a UTF-8 BOM and empty lines do not leak into fields', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'win.csv'), '\uFEFFid,city\r\n1,Málaga\r\n\r\n2,"Köln\r\nNord"\r\n\n3,Zürich');
  const got = await extractAndRead(dir, { path: 'win.csv' });
  assert.deepEqual(got.columns, ['id', 'city']);
  assert.deepEqual(got.records, [['1', 'Málaga'], ['2', 'Köln\r\nNord'], ['3', 'Zürich']]);
  assert.deepEqual(got.lines, [2, 4, 7]);
});

test('a gzipped file is kept compressed in the buffer and read back inflated', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'events.csv.gz'), gzipSync('id,v\n1,a\n2,b\n'));
  // No .gz suffix: auto-detected from the magic bytes.
  writeFileSync(join(dir, 'more.dat'), gzipSync('id,v\n3,c\n'));
  const got = await extractAndRead(dir, { path: ['events.csv.gz', 'more.dat'] });
  assert.deepEqual(got.records, [['1', 'a'], ['2', 'b'], ['3', 'c']]);
  assert.deepEqual(got.manifest.parts.map((p) => [p.name, p.compression, p.rows]), [
    ['part-00000.csv.gz', 'gzip', 2],
    ['part-00001.csv.gz', 'gzip', 1],
  ]);
});

test('a glob reads every matching file in sorted order, with origins and per-file line numbers', async () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'day-2.csv'), 'id\n20\n21\n');
  writeFileSync(join(dir, 'data', 'day-1.csv'), 'id\n10\n\n11\n');
  writeFileSync(join(dir, 'data', 'day-10.csv'), 'id\n100\n');
  writeFileSync(join(dir, 'data', 'other.txt'), 'nope\n');
  const got = await extractAndRead(dir, { path: 'data/day-*.csv' });
  assert.deepEqual(got.records.map((r) => r[0]), ['10', '11', '100', '20', '21']);
  assert.deepEqual(got.origins, ['data/day-1.csv', 'data/day-1.csv', 'data/day-10.csv', 'data/day-2.csv', 'data/day-2.csv']);
  assert.deepEqual(got.lines, [2, 4, 2, 2, 3]);
  assert.deepEqual(got.manifest.parts.map((p) => p.name), ['part-00000.csv', 'part-00001.csv', 'part-00002.csv']);
});

test('without a header the configured columns name the fields and the first line is data', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'plain.csv'), '1,a\n2,b\n');
  const got = await extractAndRead(dir, { path: 'plain.csv', header: false, columns: ['id', 'v'] });
  assert.deepEqual(got.columns, ['id', 'v']);
  assert.deepEqual(got.records, [['1', 'a'], ['2', 'b']]);
  assert.deepEqual(got.lines, [1, 2]);
  assert.equal(got.manifest.rows, 2);
  const bare = await extractAndRead(dir, { path: 'plain.csv', header: false });
  assert.equal(bare.columns, null);
  const renamed = await extractAndRead(dir, { path: 'plain.csv', columns: ['x', 'y'] });
  assert.deepEqual(renamed.columns, ['x', 'y']);
  assert.deepEqual(renamed.records, [['2', 'b']], 'the header line is skipped when columns override it');
});

test('backslash escapes work inside quoted fields when escape is a backslash', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'esc.csv'), 'a,b\n"say \\"hi\\", ok","back\\\\slash"\n');
  const got = await extractAndRead(dir, { path: 'esc.csv', escape: '\\' });
  assert.deepEqual(got.records, [['say "hi", ok', 'back\\slash']]);
  assert.equal(got.manifest.csv?.escape, '\\');
});

test('an unterminated quote at the end of a file becomes a broken entry and earlier records survive', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'bad.csv'), 'id,v\n1,ok\n2,"never closed\n3,more\n');
  const got = await extractAndRead(dir, { path: 'bad.csv' });
  assert.deepEqual(got.records, [['1', 'ok']]);
  assert.equal(got.broken.length, 1);
  assert.equal(got.broken[0]?.line, 3);
  assert.equal(got.broken[0]?.reason, 'unterminated quoted field starting at line 3');
  assert.ok(got.broken[0]?.raw.startsWith('2,"never closed'));
});

test('latin1 files are decoded as latin1', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'old.csv'), Buffer.from('name\ncafé\nniño\n', 'latin1'));
  const got = await extractAndRead(dir, { path: 'old.csv', encoding: 'latin1' });
  assert.deepEqual(got.records, [['café'], ['niño']]);
});

test('a missing file fails naming the path as written and where it resolved to', async () => {
  const dir = tempDir();
  await assert.rejects(extractAndRead(dir, { path: 'data/x.csv' }), (err: unknown) => {
    assert.ok(err instanceof SourceError);
    assert.equal(err.message, `no such file: data/x.csv (resolved to ${join(dir, 'data', 'x.csv')})`);
    assert.equal(err.retryable, false);
    return true;
  });
});

test('a glob matching nothing fails naming the pattern and the folder searched', async () => {
  const dir = tempDir();
  await assert.rejects(extractAndRead(dir, { path: 'data/*.csv' }), (err: unknown) => {
    assert.ok(err instanceof SourceError);
    assert.match(err.message, /data\/\*\.csv/);
    assert.ok(err.message.includes(dir));
    return true;
  });
});

test('a truncated gzip file fails the extract naming the file, not retryable', async () => {
  const dir = tempDir();
  const lines = Array.from({ length: 5000 }, (_, i) => `${i},row number ${i}`).join('\n');
  const gz = gzipSync(`id,v\n${lines}\n`);
  writeFileSync(join(dir, 'cut.csv.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
  await assert.rejects(extractAndRead(dir, { path: 'cut.csv.gz' }), (err: unknown) => {
    assert.ok(err instanceof SourceError);
    assert.match(err.message, /cut\.csv\.gz/);
    assert.equal(err.retryable, false);
    return true;
  });
});

test('a part whose gzip is corrupt fails the read naming its origin', async () => {
  const gz = gzipSync('id\n1\n2\n');
  const { Readable } = await import('node:stream');
  const part = { name: 'part-00000.csv.gz', rows: 2, bytes: 10, sha256: '', origin: 'data/cut.csv.gz', compression: 'gzip' as const };
  const manifest = { version: 1, tenant: 't', job: 'j', run: 'r', stage: 'extract', attempt: 1, createdAt: '', format: 'csv', parts: [part], rows: 2, bytes: 10, figures: {} } satisfies Manifest;
  const read = async () => {
    for await (const _ of csv.reader.read(manifest, () => Readable.from([gz.subarray(0, gz.length - 6)]), testStageContext({ stage: 'adapt' }))) void _;
  };
  await assert.rejects(read, (err: unknown) => {
    assert.ok(err instanceof SourceError);
    assert.match(err.message, /data\/cut\.csv\.gz/);
    return true;
  });
});

test('the config rejects a multi-character delimiter and unknown keys', () => {
  assert.equal(csv.config.safeParse({ from: 'csv', path: 'x.csv', delimiter: ';;' }).success, false);
  assert.equal(csv.config.safeParse({ from: 'csv', path: 'x.csv', delimter: ';' }).success, false);
  assert.equal(csv.config.safeParse({ from: 'csv', path: 'x.csv', delimiter: '"' }).success, false);
  const ok = csv.config.parse({ from: 'csv', path: ['a.csv', 'b/*.csv'] });
  assert.equal(ok.delimiter, ',');
  assert.equal(ok.compression, 'auto');
});

test('classic Mac files with CR-only line ends are read line by line', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'mac.csv'), 'id,name\r1,a\r2,"b\rc"\r3,d\r');
  const got = await extractAndRead(dir, { path: 'mac.csv' });
  assert.deepEqual(got.columns, ['id', 'name']);
  assert.deepEqual(got.records, [['1', 'a'], ['2', 'b\nc'], ['3', 'd']]);
});

test('a header-only file yields its columns and no records; an empty file is an error naming it', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'header.csv'), 'id,name\n');
  const got = await extractAndRead(dir, { path: 'header.csv' });
  assert.deepEqual([got.columns, got.records], [['id', 'name'], []]);
  writeFileSync(join(dir, 'empty.csv'), '');
  await assert.rejects(extractAndRead(dir, { path: 'empty.csv' }), (err: unknown) => err instanceof SourceError && /empty\.csv: the file is empty; expected a header line/.test(err.message));
});
