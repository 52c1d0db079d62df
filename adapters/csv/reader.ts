import type { Readable } from 'node:stream';
import type { Manifest, PartInfo } from '../../src/buffer/manifest.js';
import type { RawBatch, RawReader } from '../../src/core/connector.js';
import { SourceError } from '../../src/core/errors.js';
import { partText } from './part-text.js';
import { CsvSplitter } from './splitter.js';

/** Records per batch handed to adapt: large enough that per-batch costs vanish, small enough to stay flat. */
export const BATCH_RECORDS = 4096;

export type CsvReadOptions = NonNullable<Manifest['csv']>;

export const DEFAULT_CSV: CsvReadOptions = { delimiter: ',', quote: '"', escape: '"', header: true, encoding: 'utf8' };

/**
 * Reads one CSV part from any Readable of its bytes (the buffer's file, or a test's 1-byte stream) as
 * batches of records. The first record is the header when `options.header`.
 */
export async function* readCsvPart(part: PartInfo, stream: Readable, options: CsvReadOptions, signal?: AbortSignal): AsyncGenerator<RawBatch> {
  const origin = part.origin ?? part.name;
  const encoding = options.encoding === 'latin1' ? 'latin1' : 'utf8';
  const splitter = new CsvSplitter({ delimiter: options.delimiter, quote: options.quote, escape: options.escape || options.quote });
  let columns: readonly string[] | null = options.columns ?? null;
  let headerPending = options.header;
  let started = false;
  let headerJustRead = false;
  /** Classic Mac files end lines with a lone CR: read them as line ends rather than one giant record. */
  let crOnly = false;

  const batch = (): RawBatch | null => {
    const { records, lines, broken } = splitter.take();
    if (headerPending && records.length > 0) {
      const header = records.shift() as string[];
      lines.shift();
      if (!options.columns) columns = header;
      headerPending = false;
      headerJustRead = true;
    }
    // A header-only file still yields its columns, so adapt can check them.
    if (records.length === 0 && broken.length === 0 && !headerJustRead) return null;
    headerJustRead = false;
    const out: RawBatch = { origin, columns, records, lines };
    if (broken.length > 0) out.broken = broken;
    return out;
  };

  for await (const text of partText(part, stream, encoding, signal)) {
    if (!started) {
      started = true;
      crOnly = text.indexOf('\n') === -1 && text.indexOf('\r') !== -1;
    }
    splitter.push(crOnly ? text.replace(/\r/g, '\n') : text);
    if (splitter.records.length >= BATCH_RECORDS) {
      const b = batch();
      if (b) yield b;
    }
  }
  splitter.end();
  const last = batch();
  if (last) yield last;
  if (headerPending && !options.columns) {
    throw new SourceError(`${origin}: the file is empty; expected a header line naming the columns (or set header: false and columns:)`, { details: { where: origin, expected: 'a header line' } });
  }
}

/** Reads raw CSV parts back in manifest order (used by adapt). */
export const csvReader: RawReader = {
  async *read(manifest, open, ctx) {
    const options = { ...DEFAULT_CSV, ...manifest.csv };
    for (const part of manifest.parts) {
      yield* readCsvPart(part, open(part), options, ctx.signal);
    }
  },
};
