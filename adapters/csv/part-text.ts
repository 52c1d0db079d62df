import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import type { PartInfo } from '../../src/buffer/manifest.js';
import { DatamillError, isTransient, SourceError } from '../../src/core/errors.js';

const BOM = 0xfeff;
/**
 * A big read is decoded in slices whose strings stay below V8's large-object size (~128 KiB): they die in
 * cheap young-generation collections instead of piling up in old space (RSS).
 */
const DECODE_BYTES = 64 * 1024;

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
 * A raw part as text (csv and ndjson readers): inflated, decoded in small slices (multibyte characters
 * split across reads are kept whole), a leading BOM dropped, read errors naming the part's origin, and
 * the streams closed however the reading ends.
 */
export async function* partText(part: PartInfo, stream: Readable, encoding: 'utf8' | 'latin1', signal?: AbortSignal): AsyncGenerator<string> {
  const input = partBytes(part, stream);
  const decoder = new StringDecoder(encoding);
  let started = false;
  const first = (text: string) => {
    if (started || text.length === 0) return text;
    started = true;
    return text.charCodeAt(0) === BOM ? text.slice(1) : text;
  };
  try {
    for await (const chunk of input as AsyncIterable<Buffer | string>) {
      signal?.throwIfAborted();
      if (typeof chunk === 'string') {
        yield first(chunk);
        continue;
      }
      for (let at = 0; at < chunk.length; at += DECODE_BYTES) {
        const text = first(decoder.write(chunk.length <= DECODE_BYTES ? chunk : chunk.subarray(at, at + DECODE_BYTES)));
        if (text.length > 0) yield text;
      }
    }
    const tail = first(decoder.end());
    if (tail.length > 0) yield tail;
  } catch (err) {
    if (signal?.aborted) throw err;
    throw readFailure(err, part);
  } finally {
    input.destroy();
    stream.destroy();
  }
}
