import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { config as fileConfig, createSink } from '../../adapters/file/index.js';
import type { FileSinkSpec } from '../../adapters/file/config.js';
import type { TypedInput } from '../../src/core/connector.js';
import { LoadError } from '../../src/core/errors.js';
import type { Row, Schema } from '../../src/core/schema.js';
import { testStageContext } from '../support/stage-context.js';
import { bufferedInput } from './typed-input.js';

/** A plain RFC 4180 reader, written separately from the sink so the test does not check the code against itself. */
function parseCsv(text: string, delimiter = ','): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) {
      record.push(field);
      field = '';
    } else if (c === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += c;
  }
  assert.equal(field, '', 'the file ends with a newline');
  return records;
}

const SCHEMA: Schema = [
  { name: 'id', type: 'integer' },
  { name: 'text', type: 'string' },
  { name: 'price', type: 'decimal' },
  { name: 'ratio', type: 'number' },
  { name: 'ok', type: 'boolean' },
  { name: 'ts', type: 'timestamp' },
  { name: 'day', type: 'date' },
  { name: 'doc', type: 'json' },
];
const TS = Date.UTC(2026, 2, 4, 5, 6, 7, 89);
const ROWS: Row[] = [
  [1, 'plain', '10.50', 0.5, true, TS, '2026-03-04', { k: 'v, "q"' }],
  [2, 'comma, "quotes"\r\nand\nlines;semi', '-12345678901234567890.01', -2, false, 0, '1970-01-01', [1, 2]],
  [3, '', null, null, null, null, null, null],
];

async function writeWith(spec: Partial<FileSinkSpec> & { path: string }, rows: Row[] = ROWS, run = 'run-1') {
  const dir = mkdtempSync(join(tmpdir(), 'datamill-file-sink-'));
  const buffered = await bufferedInput(SCHEMA, rows, { run, partRows: 2 });
  try {
    const ctx = testStageContext({ stage: 'load', baseDir: dir, run });
    const result = await createSink(fileConfig.parse({ to: 'file', ...spec })).load(ctx, buffered.input);
    return { dir, result, ctx, text: readFileSync(join(dir, spec.path), 'utf8') };
  } finally {
    buffered.cleanup();
  }
}

test('csv output quotes exactly what RFC 4180 needs and reads back to the same values', async (t) => {
  const { dir, result, text } = await writeWith({ path: 'out/stats.csv' });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(result.rowsLoaded, 3);
  assert.equal(result.target, join(dir, 'out/stats.csv'));
  assert.deepEqual(parseCsv(text), [
    ['id', 'text', 'price', 'ratio', 'ok', 'ts', 'day', 'doc'],
    ['1', 'plain', '10.50', '0.5', 'true', '2026-03-04T05:06:07.089Z', '2026-03-04', '{"k":"v, \\"q\\""}'],
    ['2', 'comma, "quotes"\r\nand\nlines;semi', '-12345678901234567890.01', '-2', 'false', '1970-01-01T00:00:00.000Z', '1970-01-01', '[1,2]'],
    ['3', '', '', '', '', '', '', ''],
  ]);
  assert.ok(text.startsWith('id,text,price,ratio,ok,ts,day,doc\n1,plain,10.50,'), 'plain values are not quoted');
  assert.ok(text.endsWith('\n3,"",,,,,,\n'), 'an empty string is "" and a null is an empty field');
});

test('csv honours another delimiter and no header', async (t) => {
  const { dir, text } = await writeWith({ path: 'stats.txt', format: 'csv', delimiter: ';', header: false });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const records = parseCsv(text, ';');
  assert.equal(records.length, 3);
  assert.equal(records[1]![1], 'comma, "quotes"\r\nand\nlines;semi');
  assert.match(text, /^1;plain;10\.50;0\.5;/);
});

test('ndjson output has one typed object per row', async (t) => {
  const { dir, text } = await writeWith({ path: 'stats.jsonl' });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lines = text.split('\n');
  assert.equal(lines.pop(), '');
  assert.deepEqual(lines.map((l) => JSON.parse(l)), [
    { id: 1, text: 'plain', price: '10.50', ratio: 0.5, ok: true, ts: '2026-03-04T05:06:07.089Z', day: '2026-03-04', doc: { k: 'v, "q"' } },
    { id: 2, text: 'comma, "quotes"\r\nand\nlines;semi', price: '-12345678901234567890.01', ratio: -2, ok: false, ts: '1970-01-01T00:00:00.000Z', day: '1970-01-01', doc: [1, 2] },
    { id: 3, text: '', price: null, ratio: null, ok: null, ts: null, day: null, doc: null },
  ]);
});

test('a second run replaces the file whole', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'datamill-file-sink-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'stats.ndjson'), 'old content that is much longer than the new one\n'.repeat(100));
  const buffered = await bufferedInput(SCHEMA, ROWS.slice(0, 1), { run: 'run-2' });
  t.after(() => buffered.cleanup());
  await createSink(fileConfig.parse({ to: 'file', path: 'stats.ndjson' })).load(testStageContext({ stage: 'load', baseDir: dir, run: 'run-2' }), buffered.input);
  const text = readFileSync(join(dir, 'stats.ndjson'), 'utf8');
  assert.equal(text.split('\n').length, 2);
  assert.equal(JSON.parse(text).id, 1);
  assert.deepEqual(readdirSync(dir).sort(), ['.stats.ndjson.datamill.json', 'stats.ndjson'], 'no temp file is left, only the ledger');
});

test('a replayed load of the run that wrote the file, or of an older run, leaves the newer file alone', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'datamill-file-sink-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const sink = createSink(fileConfig.parse({ to: 'file', path: 'stats.csv' }));
  const older = await bufferedInput(SCHEMA, ROWS.slice(0, 1), { run: '20260101T000000Z-aaaaaa' });
  const newer = await bufferedInput(SCHEMA, ROWS, { run: '20260102T000000Z-bbbbbb' });
  t.after(() => (older.cleanup(), newer.cleanup()));
  const ctx = (run: string) => testStageContext({ stage: 'load', baseDir: dir, run });
  await sink.load(ctx('20260101T000000Z-aaaaaa'), older.input);
  await sink.load(ctx('20260102T000000Z-bbbbbb'), newer.input);
  const after = readFileSync(join(dir, 'stats.csv'), 'utf8');
  const replay = await sink.load(ctx('20260101T000000Z-aaaaaa'), older.input);
  assert.equal(replay.alreadyLoaded, true);
  const again = await sink.load(ctx('20260102T000000Z-bbbbbb'), newer.input);
  assert.deepEqual([again.alreadyLoaded, again.rowsLoaded], [true, ROWS.length]);
  assert.equal(readFileSync(join(dir, 'stats.csv'), 'utf8'), after, "the newest run's rows stay");
});

test('a load that fails midway leaves the old file untouched and no temp file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'datamill-file-sink-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'stats.csv'), 'the,old\nfile,content\n');
  const real = await bufferedInput(SCHEMA, ROWS);
  t.after(() => real.cleanup());
  const broken: TypedInput = {
    ...real.input,
    parts: () => real.input.parts(),
    async *rows() {
      yield ROWS.slice(0, 2);
      throw new Error('the buffer went away');
    },
  };
  await assert.rejects(createSink(fileConfig.parse({ to: 'file', path: 'stats.csv' })).load(testStageContext({ stage: 'load', baseDir: dir }), broken), (err: unknown) => {
    assert.ok(err instanceof LoadError);
    assert.match(err.message, /cannot write .*stats\.csv: the buffer went away; the file was left as it was/);
    return true;
  });
  assert.equal(readFileSync(join(dir, 'stats.csv'), 'utf8'), 'the,old\nfile,content\n');
  assert.deepEqual(readdirSync(dir), ['stats.csv']);
});

test('the format comes from the extension, and an unknown extension asks for a format', () => {
  assert.equal(fileConfig.parse({ to: 'file', path: 'a.csv' }).header, true);
  assert.equal(fileConfig.parse({ to: 'file', path: 'a.CSV' }).delimiter, ',');
  const r = fileConfig.safeParse({ to: 'file', path: 'out/a.txt' });
  assert.equal(r.success, false);
  assert.deepEqual(r.error!.issues[0]!.path, ['format']);
  assert.match(r.error!.issues[0]!.message, /set format: csv or format: ndjson/);
  assert.equal(fileConfig.safeParse({ to: 'file', path: 'a.csv', delimiter: '"' }).success, false);
  assert.equal(fileConfig.safeParse({ to: 'file', path: 'a.csv', delimiter: ';;' }).success, false);
  assert.equal(fileConfig.safeParse({ to: 'file', path: 'a.csv', extra: 1 }).success, false);
});
