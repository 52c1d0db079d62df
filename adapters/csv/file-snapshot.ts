import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';
import fg from 'fast-glob';
import type { PartWriter, StageWriter } from '../../src/buffer/buffer.js';
import type { PartInfo } from '../../src/buffer/manifest.js';
import { partName } from '../../src/buffer/manifest.js';
import { DatamillError, isTransient, SourceError } from '../../src/core/errors.js';
import type { StageContext } from '../../src/core/stage-context.js';

/*
 * File sources (csv, ndjson) copy each input file unchanged into the buffer: a snapshot of the source at
 * run time, so adapt can be replayed later on exactly the bytes this run saw.
 */

const NEWLINE = 10;

/** Expands the configured paths/globs against `baseDir`: absolute paths, sorted within each pattern, no duplicates. */
export async function resolveSourceFiles(paths: string | string[], baseDir: string): Promise<string[]> {
  const patterns = Array.isArray(paths) ? paths : [paths];
  const files: string[] = [];
  const seen = new Set<string>();
  for (const pattern of patterns) {
    let found: string[];
    if (fg.isDynamicPattern(pattern)) {
      // fast-glob wants forward slashes; an absolute pattern ignores cwd.
      found = (await fg(pattern.split(sep).join('/'), { cwd: baseDir, absolute: true, onlyFiles: true, dot: false })).map((f) => resolve(f)).sort();
      if (found.length === 0) {
        throw new SourceError(`no file matches ${pattern} (searched in ${baseDir})`, { details: { where: baseDir, value: pattern, expected: 'a glob matching at least one file' } });
      }
    } else {
      const abs = resolve(baseDir, pattern);
      let isFile: boolean;
      try {
        isFile = (await stat(abs)).isFile();
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') {
          throw new SourceError(`no such file: ${pattern} (resolved to ${abs})`, { details: { where: abs, value: pattern, expected: 'an existing file' } });
        }
        throw new SourceError(`cannot read ${pattern} (resolved to ${abs}): ${(err as Error).message}`, { retryable: isTransient(err), cause: err });
      }
      if (!isFile) throw new SourceError(`${pattern} (resolved to ${abs}) is not a file`, { details: { where: abs, value: pattern, expected: 'a file or a glob' } });
      found = [abs];
    }
    for (const f of found) {
      if (seen.has(f)) continue;
      seen.add(f);
      files.push(f);
    }
  }
  return files;
}

/** How a file appears in `origin`: relative to the job's folder when inside it, with forward slashes. */
export function originOf(file: string, baseDir: string): string {
  const rel = relative(baseDir, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return file.split(sep).join('/');
  return rel.split(sep).join('/');
}

async function startsWithGzipMagic(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

export async function isGzip(file: string, mode: 'auto' | 'gzip' | 'none'): Promise<boolean> {
  if (mode !== 'auto') return mode === 'gzip';
  return file.endsWith('.gz') || (await startsWithGzipMagic(file));
}

function countNewlines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(NEWLINE); i !== -1; i = buf.indexOf(NEWLINE, i + 1)) n++;
  return n;
}

export interface SnapshotOptions {
  /** Part file extension before any `.gz` (csv, ndjson). */
  ext: string;
  compression: 'auto' | 'gzip' | 'none';
  /** Lines at the top of each file that are not records (a CSV header). */
  headerLines: number;
}

/**
 * Copies one source file as part `index`, streaming (memory stays flat). A gzipped file is also inflated
 * on the side to prove it is intact and to count its lines; the part keeps the compressed bytes.
 */
export async function snapshotFile(file: string, index: number, ctx: StageContext, out: StageWriter, options: SnapshotOptions): Promise<PartInfo> {
  const gzip = await isGzip(file, options.compression);
  return snapshotStream(createReadStream(file, { highWaterMark: 1 << 20 }), { origin: originOf(file, ctx.baseDir), where: file, gzip }, index, ctx, out, options);
}

/**
 * Copies any byte stream (a file, an S3 object) as part `index` of the snapshot, counting its records.
 * `gzip: 'sniff'` decides from the first two bytes (the gzip magic number).
 */
export async function snapshotStream(input: Readable, source: { origin: string; where: string; gzip: boolean | 'sniff' }, index: number, ctx: StageContext, out: StageWriter, options: SnapshotOptions): Promise<PartInfo> {
  const { origin } = source;
  let writer: PartWriter | null = null;
  let gzip = source.gzip === true;
  const open = (first: Buffer | null) => {
    if (source.gzip === 'sniff') gzip = first !== null && first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
    return out.part(partName(index, gzip ? `${options.ext}.gz` : options.ext), gzip ? { origin, compression: 'gzip' } : { origin });
  };

  let newlines = 0;
  let endsWithNewline = true;
  let textBytes = 0;
  let reported = 0;
  const countText = (buf: Buffer) => {
    if (buf.length === 0) return;
    newlines += countNewlines(buf);
    textBytes += buf.length;
    endsWithNewline = buf[buf.length - 1] === NEWLINE;
  };
  const report = (rows: number) => {
    if (rows > reported) {
      ctx.progress(rows - reported);
      reported = rows;
    }
  };

  let gzError: Error | null = null;
  let gunzip: Gunzip | null = null;
  let gunzipDone: Promise<unknown> = Promise.resolve();
  const startGunzip = () => {
    const g = createGunzip();
    g.on('data', countText);
    g.on('error', (err) => (gzError ??= err));
    gunzipDone = new Promise<void>((res) => {
      g.once('end', res);
      g.once('error', () => res());
    });
    return g;
  };
  const corrupt = (err: Error) =>
    new SourceError(`${origin} is not a valid gzip file: ${err.message}`, { retryable: false, cause: err, details: { where: source.where, expected: 'an intact gzip file (or compression: none)' } });

  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      ctx.signal.throwIfAborted();
      if (!writer) {
        writer = open(chunk);
        if (gzip) gunzip = startGunzip();
      }
      await writer.write(chunk);
      if (gunzip) {
        if (gzError) throw corrupt(gzError);
        // Wait when inflating falls behind reading, or the pending input would pile up in memory.
        if (!gunzip.write(chunk)) await Promise.race([once(gunzip, 'drain'), gunzipDone]);
      } else {
        countText(chunk);
      }
      report(Math.max(0, newlines - options.headerLines));
    }
    if (gunzip) {
      gunzip.end();
      await gunzipDone;
      if (gzError) throw corrupt(gzError);
    }
  } catch (err) {
    input.destroy();
    gunzip?.destroy();
    if (gzError) throw corrupt(gzError);
    if (err instanceof DatamillError || ctx.signal.aborted) throw err;
    throw new SourceError(`cannot read ${origin}: ${(err as Error).message}`, { retryable: isTransient(err), cause: err, details: { where: source.where } });
  }
  writer ??= open(null);
  const lines = newlines + (textBytes > 0 && !endsWithNewline ? 1 : 0);
  const rows = Math.max(0, lines - options.headerLines);
  report(rows);
  return writer.close(rows);
}

/** Snapshots every file a source config names, one part each, in order (shared by csv and ndjson). */
export async function snapshotFiles(path: string | string[], ctx: StageContext, out: StageWriter, options: SnapshotOptions): Promise<PartInfo[]> {
  const files = await resolveSourceFiles(path, ctx.baseDir);
  const parts: PartInfo[] = [];
  for (const [i, file] of files.entries()) {
    ctx.signal.throwIfAborted();
    parts.push(await snapshotFile(file, i, ctx, out, options));
  }
  ctx.log.info(`extracted ${files.length} ${options.ext} file(s)`, { files: files.length, rows: parts.reduce((a, p) => a + p.rows, 0) });
  return parts;
}
