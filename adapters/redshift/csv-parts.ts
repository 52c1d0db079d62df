import { PassThrough, Transform, type Readable } from 'node:stream';
import { createGzip, type Gzip } from 'node:zlib';
import type { TypedInput } from '../../src/core/connector.js';
import { LoadError } from '../../src/core/errors.js';
import { lineBatches } from '../../src/core/lines.js';
import { unescapeText } from '../../src/core/row-codec.js';
import type { StageContext } from '../../src/core/stage-context.js';
import { partName } from '../../src/buffer/manifest.js';

/** Uncompressed CSV per file before the count goes up by another multiple of the slices (~20–40 MB gzipped). */
export const FILE_TARGET_BYTES = 128 * 1024 * 1024;

/**
 * How many files COPY gets: a multiple of the slice count, so every slice loads an equal share in
 * parallel, and more multiples as the input grows, so no file gets far above the target size.
 */
export function fileCount(slices: number, inputBytes: number, rows: number): number {
  const n = slices * Math.max(1, Math.ceil(inputBytes / (slices * FILE_TARGET_BYTES)));
  return Math.max(1, Math.min(n, rows));
}

export interface StagedFile {
  name: string;
  rows: number;
  /** Compressed bytes, for the manifest's content_length. */
  bytes: number;
}

export interface CsvStagingOptions {
  files: number;
  /** Append each row's 0-based input position as a last column (upserts: the last occurrence of a key wins). */
  ordinal: boolean;
  /** Columns that must not be null (the upsert key), by index. */
  notNull: readonly number[];
  /** Uploads one staged file while it is written; resolves when the object is stored. */
  put(name: string, body: Readable): Promise<void>;
}

/** A marker COPY reads as NULL (NULL AS '\N'); written unquoted, so a quoted "\N" stays text. */
const NULL_MARK = '\\N';

/**
 * Converts the buffered COPY-text parts into CSV.gz files, streaming: one file is open at a time, each
 * uploaded while it is compressed, so memory does not grow with the input. Text and JSON are always
 * quoted (an empty string stays apart from a null); the other types never hold a comma or a quote.
 */
export async function stageCsvParts(input: TypedInput, options: CsvStagingOptions, ctx: Pick<StageContext, 'progress' | 'signal'>): Promise<StagedFile[]> {
  const quoted = input.schema.map((f) => f.type === 'string' || f.type === 'json');
  const total = input.manifest.rows;
  const perFile = Math.max(1, Math.ceil(total / Math.max(1, options.files)));
  const staged: StagedFile[] = [];
  let file: { name: string; gzip: Gzip; body: PassThrough; counted: { bytes: number }; upload: Promise<void>; rows: number } | null = null;
  let ordinal = 0;

  const open = () => {
    const name = partName(staged.length, 'csv.gz');
    const gzip = createGzip({ level: 6 });
    const counted = { bytes: 0 };
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        counted.bytes += chunk.length;
        done(null, chunk);
      },
    });
    const body = gzip.pipe(counter).pipe(new PassThrough());
    const upload = options.put(name, body);
    // An upload failing early must not leave an unhandled rejection while rows are still converted.
    upload.catch(() => {});
    return { name, gzip, body, counted, upload, rows: 0 };
  };
  const close = async () => {
    if (!file) return;
    const f = file;
    file = null;
    f.gzip.end();
    await f.upload;
    staged.push({ name: f.name, rows: f.rows, bytes: f.counted.bytes });
  };
  const write = async (text: string) => {
    if (!file!.gzip.write(text)) await new Promise<void>((resolve, reject) => {
      const f = file!;
      const onDrain = () => { f.gzip.off('error', onError); resolve(); };
      const onError = (err: Error) => { f.gzip.off('drain', onDrain); reject(err); };
      f.gzip.once('drain', onDrain).once('error', onError);
    });
  };

  try {
    for await (const { part, stream } of input.parts()) {
      let row = 0;
      for await (const lines of lineBatches(stream)) {
        ctx.signal.throwIfAborted();
        let text = '';
        for (const line of lines) {
          row++;
          if (!file) file = open();
          const cells = line.split('\t');
          for (const k of options.notNull) {
            if (cells[k] === NULL_MARK) {
              const column = input.schema[k]!.name;
              throw new LoadError(`upsert: input ${part.name} row ${row} has a null in key column ${column}; a null key matches nothing, so such rows would be added again by every load`, {
                details: { where: `${part.name} row ${row}`, value: null, expected: `non-null values in ${column}` },
              });
            }
          }
          text += csvLine(cells, quoted) + (options.ordinal ? `,${ordinal}` : '') + '\n';
          ordinal++;
          file.rows++;
          if (file.rows >= perFile) {
            await write(text);
            text = '';
            await close();
          }
        }
        if (text.length > 0) await write(text);
        ctx.progress(lines.length);
      }
    }
    await close();
  } catch (err) {
    if (file) {
      const f: { gzip: Gzip; body: PassThrough; upload: Promise<void> } = file;
      // The upload reads `body`: failing it is what stops the upload (ending gzip would store a partial object).
      f.gzip.destroy();
      f.body.destroy(err as Error);
      await f.upload.catch(() => {});
    }
    throw err;
  }
  if (ordinal !== total) {
    throw new LoadError(`the buffered input holds ${ordinal} rows but its manifest says ${total}: the buffer is damaged; re-run the transform stage`, { details: { value: ordinal, expected: String(total) } });
  }
  return staged;
}

function csvLine(cells: string[], quoted: readonly boolean[]): string {
  let out = '';
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i]!;
    if (i > 0) out += ',';
    if (c === NULL_MARK) {
      out += NULL_MARK;
      continue;
    }
    const v = c.indexOf('\\') === -1 ? c : unescapeText(c);
    out += quoted[i] ? `"${v.indexOf('"') === -1 ? v : v.replace(/"/g, '""')}"` : v;
  }
  return out;
}

/** The COPY manifest: every staged file, mandatory, so a missing object fails the COPY instead of loading less. */
export function copyManifest(files: readonly StagedFile[], url: (name: string) => string): string {
  return JSON.stringify({ entries: files.map((f) => ({ url: url(f.name), mandatory: true, meta: { content_length: f.bytes } })) }, null, 1);
}
