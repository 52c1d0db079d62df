import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { readCsvPart, DEFAULT_CSV, type CsvReadOptions } from '../../adapters/csv/reader.js';
import { CsvSplitter, type CsvDialect } from '../../adapters/csv/splitter.js';
import { seededRandom } from '../../bench/traffic-data.js';

interface Split {
  records: string[][];
  lines: number[];
  broken: number[];
}

/**
 * The obvious implementation: one character at a time over the whole text, no fast path, no chunks.
 * A field is quoted when it starts with the quote; text after a closing quote is kept literally.
 */
function referenceSplit(text: string, { delimiter, quote, escape }: CsvDialect): Split {
  const out: Split = { records: [], lines: [], broken: [] };
  const n = text.length;
  let i = 0;
  let line = 1;
  while (i < n) {
    if (text[i] === '\n') {
      i++;
      line++;
      continue;
    }
    if (text[i] === '\r' && (i + 1 === n || text[i + 1] === '\n')) {
      i += 2;
      line++;
      continue;
    }
    const start = line;
    const fields: string[] = [];
    let field = '';
    let state: 'start' | 'unquoted' | 'quoted' | 'escaped' | 'after' = 'start';
    for (;;) {
      if (i >= n) {
        if (state === 'quoted' || state === 'escaped') {
          out.broken.push(start);
          return out;
        }
        if (state === 'unquoted' && field.endsWith('\r')) field = field.slice(0, -1);
        fields.push(field);
        break;
      }
      const c = text[i] as string;
      if (state === 'start') {
        if (c === quote) {
          state = 'quoted';
          i++;
        } else state = 'unquoted';
      } else if (state === 'unquoted') {
        i++;
        if (c === delimiter) {
          fields.push(field);
          field = '';
          state = 'start';
        } else if (c === '\n') {
          if (field.endsWith('\r')) field = field.slice(0, -1);
          fields.push(field);
          line++;
          break;
        } else field += c;
      } else if (state === 'quoted') {
        i++;
        if (c === quote) state = 'after';
        else if (c === escape && escape !== quote) state = 'escaped';
        else {
          if (c === '\n') line++;
          field += c;
        }
      } else if (state === 'escaped') {
        i++;
        if (c === '\n') line++;
        field += c;
        state = 'quoted';
      } else if (c === quote && escape === quote) {
        field += quote;
        state = 'quoted';
        i++;
      } else if (c === delimiter) {
        fields.push(field);
        field = '';
        state = 'start';
        i++;
      } else if (c === '\n') {
        fields.push(field);
        line++;
        i++;
        break;
      } else if (c === '\r') i++;
      else state = 'unquoted';
    }
    out.records.push(fields);
    out.lines.push(start);
  }
  return out;
}

/** Feeds the splitter the text cut at random places. */
function chunkedSplit(text: string, dialect: CsvDialect, rnd: () => number, maxChunk: number): Split {
  const splitter = new CsvSplitter(dialect);
  for (let i = 0; i < text.length; ) {
    const size = 1 + Math.floor(rnd() * maxChunk);
    splitter.push(text.slice(i, i + size));
    i += size;
  }
  splitter.end();
  const { records, lines, broken } = splitter.take();
  return { records, lines, broken: broken.map((b) => b.line) };
}

const DIALECTS: CsvDialect[] = [
  { delimiter: ',', quote: '"', escape: '"' },
  { delimiter: ';', quote: '"', escape: '"' },
  { delimiter: '\t', quote: "'", escape: "'" },
  { delimiter: '|', quote: '"', escape: '\\' },
];

function encodeField(value: string, d: CsvDialect, rnd: () => number): string {
  const needs = value.includes(d.delimiter) || value.includes(d.quote) || value.includes('\n') || value.includes('\r') || value.includes(d.escape);
  if (!needs && rnd() < 0.8) return value;
  const escaped = d.escape === d.quote ? value.split(d.quote).join(d.quote + d.quote) : value.replace(/[\\"]/g, (c) => `\\${c}`);
  return `${d.quote}${escaped}${d.quote}`;
}

/** A valid document of tricky records, and the records and start lines it must split into. */
function trickyDocument(rnd: () => number, d: CsvDialect, count: number): { text: string; expected: Split } {
  const pieces = ['abc', 'x y', '', ' ', d.delimiter, d.quote, '\n', '\r\n', 'é', '😀', '\\', '12.5', '€'];
  const expected: Split = { records: [], lines: [], broken: [] };
  let text = '';
  let line = 1;
  for (let r = 0; r < count; r++) {
    while (rnd() < 0.05) {
      text += rnd() < 0.5 ? '\n' : '\r\n';
      line++;
    }
    const fields: string[] = [];
    const width = 1 + Math.floor(rnd() * 5);
    for (let f = 0; f < width; f++) {
      let v = '';
      const parts = Math.floor(rnd() * 4);
      for (let p = 0; p < parts; p++) v += pieces[Math.floor(rnd() * pieces.length)];
      fields.push(v);
    }
    const encoded = fields.map((v) => (width === 1 && v === '' ? d.quote + d.quote : encodeField(v, d, rnd))).join(d.delimiter);
    expected.records.push(fields);
    expected.lines.push(line);
    line += (encoded.match(/\n/g) ?? []).length + 1;
    text += encoded + (r === count - 1 && rnd() < 0.5 ? '' : rnd() < 0.5 ? '\n' : '\r\n');
  }
  return { text, expected };
}

test('random tricky CSV splits the same as the reference and as generated, whatever the chunking', () => {
  const rnd = seededRandom(42);
  for (const d of DIALECTS) {
    for (let doc = 0; doc < 4; doc++) {
      const { text, expected } = trickyDocument(rnd, d, 1000);
      const reference = referenceSplit(text, d);
      assert.deepEqual(reference, expected, 'the reference agrees with the generator');
      for (const maxChunk of [1, 7, 300, 1 << 20]) {
        assert.deepEqual(chunkedSplit(text, d, rnd, maxChunk), expected, `dialect ${JSON.stringify(d)}, chunks up to ${maxChunk} chars`);
      }
    }
  }
});

test('random malformed CSV (stray quotes, junk after quotes, bare CRs) splits the same as the reference', () => {
  const rnd = seededRandom(7);
  for (const d of DIALECTS) {
    const alphabet = ['a', 'b', ' ', d.delimiter, d.delimiter, d.quote, d.quote, '\n', '\n', '\r', '\r\n', '\\', 'é'];
    for (let doc = 0; doc < 300; doc++) {
      let text = '';
      const len = Math.floor(rnd() * 120);
      for (let i = 0; i < len; i++) text += alphabet[Math.floor(rnd() * alphabet.length)];
      const expected = referenceSplit(text, d);
      for (const maxChunk of [1, 5, 1000]) {
        assert.deepEqual(chunkedSplit(text, d, rnd, maxChunk), expected, `input ${JSON.stringify(text)} with ${JSON.stringify(d)}`);
      }
    }
  }
});

async function readAll(chunks: Buffer[], options: CsvReadOptions = DEFAULT_CSV) {
  const part = { name: 'part-00000.csv', rows: 0, bytes: 0, sha256: '', origin: 'in.csv' };
  const got = { columns: null as readonly string[] | null, records: [] as unknown[], lines: [] as number[], broken: [] as unknown[] };
  for await (const b of readCsvPart(part, Readable.from(chunks), options)) {
    got.columns = b.columns;
    got.records.push(...b.records);
    got.lines.push(...b.lines);
    got.broken.push(...(b.broken ?? []));
  }
  return got;
}

function bytesOneByOne(buf: Buffer): Buffer[] {
  return Array.from(buf, (b) => Buffer.from([b]));
}

test('1-byte chunks split inside quoted fields, CRLF pairs, multibyte characters and the BOM read the same as one chunk', async () => {
  const text = '\uFEFFname,city,note\r\n"Ana ""la grande""",Köln,"multi\r\nline 😀"\r\nBo,Zürich,€5\r\n\r\n"x","y","z"';
  const buf = Buffer.from(text, 'utf8');
  const whole = await readAll([buf]);
  assert.deepEqual(whole.columns, ['name', 'city', 'note']);
  assert.deepEqual(whole.records, [['Ana "la grande"', 'Köln', 'multi\r\nline 😀'], ['Bo', 'Zürich', '€5'], ['x', 'y', 'z']]);
  assert.deepEqual(whole.lines, [2, 4, 6]);
  assert.deepEqual(await readAll(bytesOneByOne(buf)), whole);
});

test('records are handed over in batches of a few thousand that keep the header columns', async () => {
  const rows = Array.from({ length: 10_000 }, (_, i) => `${i},"v ${i}"`).join('\n');
  const part = { name: 'part-00000.csv', rows: 0, bytes: 0, sha256: '', origin: 'big.csv' };
  const sizes: number[] = [];
  let next = 0;
  for await (const b of readCsvPart(part, Readable.from([Buffer.from(`id,v\n${rows}\n`)]), DEFAULT_CSV)) {
    assert.deepEqual(b.columns, ['id', 'v']);
    sizes.push(b.records.length);
    for (const [i, r] of b.records.entries()) {
      assert.deepEqual(r, [String(next), `v ${next}`]);
      assert.equal(b.lines[i], next + 2);
      next++;
    }
  }
  assert.equal(next, 10_000);
  assert.ok(sizes.length >= 1);
});

test('an unterminated quote read in 1-byte chunks is reported once with its start line and first 200 characters', async () => {
  const long = 'y'.repeat(500);
  const buf = Buffer.from(`a,b\n1,2\n3,"${long}\n4,5\n`);
  const got = await readAll(bytesOneByOne(buf));
  assert.deepEqual(got.records, [['1', '2']]);
  assert.deepEqual(got.broken, [{ line: 3, raw: `3,"${long}`.slice(0, 200), reason: 'unterminated quoted field starting at line 3' }]);
});
