import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { BufferError } from '../core/errors.js';
import type { BufferedRun, PartWriter, StageBuffer, StageWriter } from './buffer.js';
import { buildManifest, PartTally, stagePath, type Manifest, type PartInfo, type StageRef } from './manifest.js';
import type { S3Connection } from './s3-url.js';

type S3Api = typeof import('./s3-client.js');

/** The AWS SDK is loaded on first use: a stage on a file buffer never pays for it. */
async function connect(conn: S3Connection): Promise<{ s3: S3Api; client: S3Client }> {
  const s3 = await import('./s3-client.js');
  return { s3, client: s3.createS3Client(conn) };
}

const MANIFEST = '_manifest.json';
const REJECTS = '_rejects/';

/** Streams a part into an upload as it is written; the upload sends parts of it in parallel. */
class S3PartWriter implements PartWriter {
  private readonly tally: PartTally;
  private readonly body = new PassThrough({ highWaterMark: 1 << 20 });
  private readonly done: Promise<void>;
  private failed: unknown = null;

  constructor(readonly name: string, api: Promise<{ s3: S3Api; client: S3Client }>, bucket: string, key: string, extra: Pick<PartInfo, 'origin' | 'compression'>) {
    this.tally = new PartTally(name, extra);
    // The upload reports the body's failures; an unheard 'error' event would end the process.
    this.body.on('error', () => undefined);
    this.done = api.then(({ s3, client }) => s3.uploadStream(client, { bucket, key }, this.body));
    this.done.catch((err: unknown) => (this.failed = err));
  }

  async write(chunk: string | Uint8Array): Promise<void> {
    if (this.failed) throw this.failed;
    if (!this.body.write(this.tally.add(chunk))) await Promise.race([once(this.body, 'drain'), this.done]);
    if (this.failed) throw this.failed;
  }

  async close(rows: number): Promise<PartInfo> {
    this.body.end();
    await this.done;
    return this.tally.info(rows);
  }

  /** Abandons the upload (a multipart upload in progress is aborted, so nothing becomes visible). */
  async cancel(): Promise<void> {
    this.body.destroy(new BufferError('attempt aborted'));
    await this.done.catch(() => undefined);
  }
}

/**
 * The buffer on S3, with the layout of the file buffer: `<prefix>/<tenant>/<job>/<run>/<stage>/part-…`
 * and `_manifest.json`, written last. S3 has no rename, so the commit is the manifest's single PUT (S3
 * is strongly consistent: a reader that finds it finds every part it lists). An attempt writes its
 * parts in place when the stage has no committed output; when it has one (a replay), the new parts go
 * under `.attempt-N/` in the stage folder, so the old output stays whole until the new manifest replaces
 * it. After the commit, every object the manifest does not list (earlier attempts, killed uploads'
 * leftovers) is deleted.
 */
export class S3Buffer implements StageBuffer {
  private readonly api: Promise<{ s3: S3Api; client: S3Client }>;

  constructor(readonly url: string, conn: S3Connection, private readonly bucket: string, private readonly prefix: string) {
    this.api = connect(conn);
    this.api.catch(() => undefined);
  }

  private key(path: string): string {
    return this.prefix ? `${this.prefix}/${path}` : path;
  }

  private stageKey(ref: StageRef): string {
    return this.key(stagePath(ref)) + '/';
  }

  private runKey(ref: Omit<StageRef, 'stage'>): string {
    return this.key(`${ref.tenant}/${ref.job}/${ref.run}`) + '/';
  }

  async begin(ref: StageRef, attempt: number): Promise<StageWriter> {
    const stage = this.stageKey(ref);
    const dir = (await this.readManifest(ref)) ? `.attempt-${attempt}/` : '';
    const writers: S3PartWriter[] = [];
    const open = (name: string, key: string, extra: Pick<PartInfo, 'origin' | 'compression'>) => {
      const w = new S3PartWriter(name, this.api, this.bucket, key, extra);
      writers.push(w);
      return w;
    };
    return {
      part: (name, options = {}) => open(dir + name, stage + dir + name, options),
      rejectPart: (name) => open(dir + name, stage + REJECTS + dir + name, {}),
      commit: async (draft) => {
        const manifest = buildManifest(draft);
        const { s3, client } = await this.api;
        await s3.putObjectText(client, { bucket: this.bucket, key: stage + MANIFEST }, JSON.stringify(manifest, null, 2));
        const keep = new Set([stage + MANIFEST, ...manifest.parts.map((p) => stage + p.name), ...(manifest.rejects?.parts ?? []).map((p) => stage + REJECTS + p.name)]);
        await this.deleteUnder(stage, (key) => !keep.has(key));
        return manifest;
      },
      abort: async () => {
        await Promise.all(writers.map((w) => w.cancel()));
        // Written in place only when nothing was committed: then everything in the stage folder is this attempt's.
        await this.deleteUnder(stage + dir, () => true);
        if (dir !== '') await this.deleteUnder(stage + REJECTS + dir, () => true);
      },
    };
  }

  private async deleteUnder(prefix: string, which: (key: string) => boolean): Promise<void> {
    const { s3, client } = await this.api;
    const doomed: string[] = [];
    for await (const o of s3.listObjects(client, { bucket: this.bucket, key: prefix })) if (which(o.key)) doomed.push(o.key);
    await s3.deleteKeys(client, this.bucket, doomed);
  }

  async readManifest(ref: StageRef): Promise<Manifest | null> {
    const key = this.stageKey(ref) + MANIFEST;
    const { s3, client } = await this.api;
    const text = await s3.getObjectText(client, { bucket: this.bucket, key });
    if (text === null) return null;
    try {
      return JSON.parse(text) as Manifest;
    } catch (err) {
      throw new BufferError(`corrupt manifest s3://${this.bucket}/${key}: ${(err as Error).message}`, { cause: err });
    }
  }

  openPart(ref: StageRef, part: PartInfo): Readable {
    return this.open(this.stageKey(ref) + part.name);
  }

  openReject(ref: StageRef, part: PartInfo): Readable {
    return this.open(this.stageKey(ref) + REJECTS + part.name);
  }

  /** Readers take a Readable at once; the download is joined to it when the SDK is ready. */
  private open(key: string): Readable {
    const out = new PassThrough({ highWaterMark: 1 << 20 });
    this.api.then(({ s3, client }) => {
      if (out.destroyed) return;
      const body = s3.openObject(client, { bucket: this.bucket, key });
      body.on('error', (err) => out.destroy(err));
      out.on('close', () => body.destroy());
      body.pipe(out);
    }, (err: unknown) => out.destroy(err as Error));
    return out;
  }

  async putRunFile(ref: Omit<StageRef, 'stage'>, name: string, content: string): Promise<void> {
    const { s3, client } = await this.api;
    await s3.putObjectText(client, { bucket: this.bucket, key: this.runKey(ref) + name }, content);
  }

  async getRunFile(ref: Omit<StageRef, 'stage'>, name: string): Promise<string | null> {
    const { s3, client } = await this.api;
    return s3.getObjectText(client, { bucket: this.bucket, key: this.runKey(ref) + name });
  }

  removeRun(ref: Omit<StageRef, 'stage'>): Promise<void> {
    return this.deleteUnder(this.runKey(ref), () => true);
  }

  /**
   * Groups every object under the prefix by run folder. One flat listing rather than delimiter
   * listings: some S3-compatible stores (s3rver) return no common prefixes for nested keys.
   */
  async *listRuns(): AsyncGenerator<BufferedRun> {
    const { s3, client } = await this.api;
    const root = this.prefix ? `${this.prefix}/` : '';
    let current: BufferedRun | null = null;
    for await (const o of s3.listObjects(client, { bucket: this.bucket, key: root })) {
      const [tenant, job, run, rest] = o.key.slice(root.length).split('/', 4);
      if (!tenant || !job || !run || rest === undefined) continue;
      if (current && current.tenant === tenant && current.job === job && current.run === run) {
        if (o.lastModified > current.lastModified) current.lastModified = o.lastModified;
        continue;
      }
      if (current) yield current;
      current = { tenant, job, run, lastModified: o.lastModified };
    }
    if (current) yield current;
  }
}
