import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import type { Manifest, PartInfo } from '../../src/buffer/manifest.js';
import type { RawBatch, RawReader } from '../../src/core/connector.js';
import { DatamillError, isTransient, SourceError } from '../../src/core/errors.js';
import { CsvSplitter } from './splitter.js';

/** Records per batch handed to adapt: large enough that per-batch costs vanish, small enough to stay flat. */
export const BATCH_RECORDS = 4096;
const BOM = 0xfeff;
const DECODE_BYTES = 64 * 1024;

export type CsvReadOptions = NonNullable<Manifest['csv']>;

export const DEFAULT_CSV: CsvReadOptions = { delimiter: ',', quote: '"', escape: '"', header: true, encoding: 'utf8' };

/** The part's bytes, inflated when the part is gzipped; errors of the raw stream surface on the result. */
export function partBytes(part: PartInfo, stream: Readable): Readable {
  if (part.compression !== 'gzip') return stream;
  const gunzip = createGunzip();
  stream.on('error', (err) => gunzip.destroy(err));
  return stream.pipe(gunzip);
}

/** Wraps a failure while reading a part so it names the part's origin. */
export function readFailure(err: unknown, part: PartInfo): DatamillError {
  if (err instanceof DatamillError) return err;
  const origin = part.origin ?? part.name;
  const code = (err as { code?: unknown }).code;
  if (part.compression === 'gzip' && typeof code === 'string' && code.startsWith('Z_')) {
    return new SourceError(`${origin} (${part.name}) is not a valid gzip file: ${(err as Error).message}`, { retryable: false, cause: err, details: { where: origin } });
  }
  return new SourceError(`cannot read ${origin} (${part.name}): ${(err as Error).message}`, { retryable: isTransient(err), cause: err, details: { where: origin } });
}

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

  const input = partBytes(part, stream);
  const decoder = new StringDecoder(encoding);
  try {
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      signal?.throwIfAborted();
      // A big read is decoded in slices whose strings stay below V8's large-object size (~128 KiB): they
      // die in cheap young-generation collections instead of piling up in old space (RSS).
      const size = typeof chunk === 'string' ? 1 : chunk.length;
      for (let at = 0; at < size; at += DECODE_BYTES) {
        let text = typeof chunk === 'string' ? chunk : decoder.write(size <= DECODE_BYTES ? chunk : chunk.subarray(at, at + DECODE_BYTES));
        if (!started && text.length > 0) {
          started = true;
          if (text.charCodeAt(0) === BOM) text = text.slice(1);
          crOnly = text.indexOf('\n') === -1 && text.indexOf('\r') !== -1;
        }
        splitter.push(crOnly ? text.replace(/\r/g, '\n') : text);
      }
      if (splitter.records.length >= BATCH_RECORDS) {
        const b = batch();
        if (b) yield b;
      }
    }
    const tail = decoder.end();
    if (tail.length > 0) splitter.push(!started && tail.charCodeAt(0) === BOM ? tail.slice(1) : tail);
    splitter.end();
  } catch (err) {
    if (signal?.aborted) throw err;
    throw readFailure(err, part);
  } finally {
    input.destroy();
    stream.destroy();
  }
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
