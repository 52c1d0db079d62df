import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { BufferError } from '../core/errors.js';
import type { BufferedRun, PartWriter, StageBuffer, StageWriter } from './buffer.js';
import { buildManifest, PartTally, stagePath, type Manifest, type PartInfo, type StageRef } from './manifest.js';

const MANIFEST = '_manifest.json';
const REJECTS = '_rejects';

/** Parses `file://relative/dir`, `file:///abs/dir` or a plain path into an absolute directory. */
export function fileBufferRoot(url: string, baseDir: string): string {
  if (url.startsWith('file:///')) return fileURLToPath(url);
  if (url.startsWith('file://')) return resolve(baseDir, url.slice('file://'.length));
  return resolve(baseDir, url);
}

class FilePartWriter implements PartWriter {
  private readonly tally: PartTally;
  private readonly out: WriteStream;
  private failed: Error | null = null;

  constructor(readonly name: string, private readonly path: string, extra: Pick<PartInfo, 'origin' | 'compression'>) {
    this.tally = new PartTally(name, extra);
    this.out = createWriteStream(path, { highWaterMark: 1 << 20 });
    this.out.on('error', (err) => (this.failed = err));
  }

  async write(chunk: string | Uint8Array): Promise<void> {
    if (this.failed) throw new BufferError(`cannot write ${this.path}: ${this.failed.message}`, { retryable: true, cause: this.failed });
    if (!this.out.write(this.tally.add(chunk))) await once(this.out, 'drain');
  }

  async close(rows: number): Promise<PartInfo> {
    this.out.end();
    await once(this.out, 'close');
    if (this.failed) throw new BufferError(`cannot write ${this.path}: ${this.failed.message}`, { retryable: true, cause: this.failed });
    return this.tally.info(rows);
  }
}

/** Earlier attempts killed mid-write leave hidden folders; once a commit has landed they are garbage. */
async function removeLeftovers(runDir: string, stage: string): Promise<void> {
  const prefix = [`.${stage}.attempt-`, `.${stage}.replaced-`];
  for (const name of await readdir(runDir)) {
    if (prefix.some((p) => name.startsWith(p))) await rm(join(runDir, name), { recursive: true, force: true });
  }
}

/**
 * The buffer on a local directory. An attempt writes into a hidden sibling folder; commit writes the
 * manifest there (fsynced) and then swaps the folder into place with renames, so a re-run replaces the
 * old output whole and a crash mid-write leaves only a hidden folder that the next attempt deletes.
 */
export class FileBuffer implements StageBuffer {
  constructor(readonly url: string, private readonly root: string) {}

  localPath(ref: StageRef): string {
    return join(this.root, stagePath(ref));
  }

  async begin(ref: StageRef, attempt: number): Promise<StageWriter> {
    const final = this.localPath(ref);
    const tmp = join(dirname(final), `.${ref.stage}.attempt-${attempt}`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(join(tmp, REJECTS), { recursive: true });
    return {
      part: (name, options = {}) => new FilePartWriter(name, join(tmp, name), options),
      rejectPart: (name) => new FilePartWriter(name, join(tmp, REJECTS, name), {}),
      commit: async (m) => {
        const manifest = buildManifest(m);
        const path = join(tmp, MANIFEST);
        await writeFile(path, JSON.stringify(manifest, null, 2));
        const fh = await open(path, 'r');
        await fh.sync();
        await fh.close();
        const old = join(dirname(final), `.${ref.stage}.replaced-${attempt}`);
        await rm(old, { recursive: true, force: true });
        await rename(final, old).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        });
        await rename(tmp, final);
        await removeLeftovers(dirname(final), ref.stage);
        return manifest;
      },
      abort: () => rm(tmp, { recursive: true, force: true }),
    };
  }

  async readManifest(ref: StageRef): Promise<Manifest | null> {
    const path = join(this.localPath(ref), MANIFEST);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new BufferError(`cannot read ${path}: ${(err as Error).message}`, { retryable: true, cause: err });
    }
    try {
      return JSON.parse(text) as Manifest;
    } catch (err) {
      throw new BufferError(`corrupt manifest ${path}: ${(err as Error).message}`, { cause: err });
    }
  }

  openPart(ref: StageRef, part: PartInfo): Readable {
    return createReadStream(join(this.localPath(ref), part.name), { highWaterMark: 1 << 20 });
  }

  openReject(ref: StageRef, part: PartInfo): Readable {
    return createReadStream(join(this.localPath(ref), REJECTS, part.name));
  }

  private runDir(ref: Omit<StageRef, 'stage'>): string {
    return join(this.root, ref.tenant, ref.job, ref.run);
  }

  async putRunFile(ref: Omit<StageRef, 'stage'>, name: string, content: string): Promise<void> {
    const dir = this.runDir(ref);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `.${name}.tmp`), content);
    await rename(join(dir, `.${name}.tmp`), join(dir, name));
  }

  async getRunFile(ref: Omit<StageRef, 'stage'>, name: string): Promise<string | null> {
    try {
      return await readFile(join(this.runDir(ref), name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async removeRun(ref: Omit<StageRef, 'stage'>): Promise<void> {
    await rm(this.runDir(ref), { recursive: true, force: true });
  }

  async *listRuns(): AsyncGenerator<BufferedRun> {
    for (const tenant of await folders(this.root)) {
      for (const job of await folders(join(this.root, tenant))) {
        for (const run of await folders(join(this.root, tenant, job))) {
          yield { tenant, job, run, lastModified: new Date(await newestChange(join(this.root, tenant, job, run))) };
        }
      }
    }
  }
}

async function folders(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new BufferError(`cannot list ${dir}: ${(err as Error).message}`, { retryable: true, cause: err });
  }
}

/** The newest modification time (ms) of anything under a folder: a run still writing is never "old". */
async function newestChange(dir: string): Promise<number> {
  let newest = (await stat(dir)).mtimeMs;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? await newestChange(path) : (await stat(path)).mtimeMs);
  }
  return newest;
}
