import type { Readable } from 'node:stream';
import type { Manifest, ManifestDraft, PartInfo, StageRef } from './manifest.js';

/** A part being written. Bytes are counted and hashed as they pass. */
export interface PartWriter {
  readonly name: string;
  /** Resolves when the chunk is accepted (waits on backpressure). */
  write(chunk: string | Uint8Array): Promise<void>;
  /** Flushes and closes; `rows` is what the caller counted. */
  close(rows: number): Promise<PartInfo>;
}

/** One attempt at writing a stage's output. Nothing is visible to readers before `commit`. */
export interface StageWriter {
  part(name: string, options?: { origin?: string; compression?: 'gzip' }): PartWriter;
  /** Writes a rejected-rows part under `_rejects/`. */
  rejectPart(name: string): PartWriter;
  /** Writes the manifest last, replacing any earlier output of the same stage atomically. */
  commit(manifest: ManifestDraft): Promise<Manifest>;
  /** Drops everything this attempt wrote. */
  abort(): Promise<void>;
}

/** A run's folder in the buffer and when its newest object was written (for retention). */
export interface BufferedRun {
  tenant: string;
  job: string;
  run: string;
  lastModified: Date;
}

/** The object store between stages: a local directory (file://) or S3 (s3://). */
export interface StageBuffer {
  readonly url: string;
  begin(ref: StageRef, attempt: number): Promise<StageWriter>;
  /** The committed manifest, or null when the stage has no (complete) output. */
  readManifest(ref: StageRef): Promise<Manifest | null>;
  openPart(ref: StageRef, part: PartInfo): Readable;
  openReject(ref: StageRef, part: PartInfo): Readable;
  /** Files that belong to the whole run (the job spec the run was started with). */
  putRunFile(ref: Omit<StageRef, 'stage'>, name: string, content: string): Promise<void>;
  getRunFile(ref: Omit<StageRef, 'stage'>, name: string): Promise<string | null>;
  /** Removes every stage of a run (retention). */
  removeRun(ref: Omit<StageRef, 'stage'>): Promise<void>;
  /** Every run folder in the buffer (retention: `datamill gc`). */
  listRuns(): AsyncIterable<BufferedRun>;
  /** A local path for the stage folder when the buffer is a directory (for display and mounts). */
  localPath?(ref: StageRef): string;
}
