import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { LoadResult, Sink, TypedInput } from '../../src/core/connector.js';
import { DatamillError, LoadError } from '../../src/core/errors.js';
import type { StageContext } from '../../src/core/stage-context.js';
import { formatOfPath, type FileSinkConfig } from './config.js';
import { csvEncoder, ndjsonEncoder, type LineEncoder } from './formats.js';

/** Output is gathered into chunks this big before each write: few syscalls, bounded memory. */
const CHUNK = 1 << 20;

/**
 * Writes every row into a hidden temp file next to the target and renames it over the target at the end:
 * readers see the old file or the new one, never a half-written one. A re-run of the run replaces the
 * file whole (the same content again), which is what makes this sink exactly-once; a crash leaves only
 * the hidden temp file, which the next attempt of the run overwrites. A sidecar ledger records which run
 * wrote the file, so a replay of that run or of an older one leaves it alone.
 */
export function createFileSink(config: FileSinkConfig): Sink {
  return { load: (ctx, input) => load(config, ctx, input) };
}

/** `.<name>.datamill.json` beside the file: which run wrote it last (run ids sort by start time). */
interface FileLedger {
  run: string;
  rows: number;
  loadedAt: string;
}

function ledgerPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.datamill.json`);
}

async function readLedger(path: string): Promise<FileLedger | null> {
  try {
    return JSON.parse(await readFile(ledgerPath(path), 'utf8')) as FileLedger;
  } catch {
    return null;
  }
}

async function load(config: FileSinkConfig, ctx: StageContext, input: TypedInput): Promise<LoadResult> {
  const started = Date.now();
  const path = resolve(ctx.baseDir, config.path);
  // A retried or replayed load of the run that wrote the file, or of an older run, must not replace
  // newer output: the file holds the newest run's rows, once.
  const ledger = await readLedger(path);
  if (ledger && ledger.run >= ctx.run) {
    const why = ledger.run === ctx.run ? 'this run already wrote it' : `a newer run (${ledger.run}) wrote it`;
    ctx.log.info(`${path} left as it is: ${why}`, { target: path, loaded_by: ledger.run });
    return { rowsLoaded: ledger.run === ctx.run ? ledger.rows : 0, target: path, alreadyLoaded: true, figures: { loaded_by: ledger.run } };
  }
  const format = config.format ?? formatOfPath(path) ?? 'csv';
  const tmp = join(dirname(path), `.${basename(path)}.${ctx.run.replace(/[^A-Za-z0-9._-]/g, '_')}.tmp`);
  let encode: LineEncoder;
  let pending = '';
  if (format === 'csv') {
    const csv = csvEncoder(input.schema, config.delimiter);
    encode = csv.line;
    if (config.header) pending = csv.header;
  } else {
    encode = ndjsonEncoder(input.schema);
  }

  let rows = 0;
  let bytes = 0;
  try {
    await mkdir(dirname(path), { recursive: true });
    const fh = await open(tmp, 'w');
    try {
      const flush = async () => {
        const buf = Buffer.from(pending, 'utf8');
        pending = '';
        bytes += buf.length;
        await fh.write(buf);
      };
      for await (const batch of input.rows()) {
        ctx.signal.throwIfAborted();
        for (let i = 0; i < batch.length; i++) pending += encode(batch[i]!);
        rows += batch.length;
        ctx.progress(batch.length);
        if (pending.length >= CHUNK) await flush();
      }
      if (pending.length > 0) await flush();
      // The rename is only as durable as the data behind it.
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (rows !== input.manifest.rows) {
      throw new LoadError(`the buffered input decoded to ${rows} rows but its manifest lists ${input.manifest.rows}: the buffer is damaged; re-run the transform stage`, {
        details: { where: path, value: rows, expected: String(input.manifest.rows) },
      });
    }
    await rename(tmp, path);
    const record: FileLedger = { run: ctx.run, rows, loadedAt: new Date().toISOString() };
    await writeFile(ledgerPath(path), JSON.stringify(record) + '\n');
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    if (ctx.signal.aborted) throw new LoadError(`writing ${path} was cancelled; the file was left as it was`, { details: { where: path } });
    if (err instanceof DatamillError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new LoadError(`cannot write ${path}: ${e.message ?? String(err)}; the file was left as it was`, {
      retryable: e.code === 'EAGAIN' || e.code === 'EBUSY' || e.code === 'EMFILE' || e.code === 'ENFILE',
      details: { where: path, expected: 'a writable folder' },
      cause: err,
    });
  }
  const ms = Date.now() - started;
  ctx.log.info(`wrote ${rows} rows to ${path} (${format}, ${bytes} bytes) in ${ms} ms`, { target: path, format, rows, bytes, ms });
  return { rowsLoaded: rows, target: path, figures: { format, bytes } };
}
