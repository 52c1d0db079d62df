import { createHash } from 'node:crypto';
import type { Schema } from '../core/schema.js';

export const STAGES = ['extract', 'adapt', 'transform', 'load'] as const;
export type StageName = (typeof STAGES)[number];

/** Where one stage's output of one run lives: `<buffer>/<tenant>/<job>/<run>/<stage>/`. */
export interface StageRef {
  tenant: string;
  job: string;
  run: string;
  stage: StageName;
}

/**
 * Formats a part can be in:
 * - `tsv`: typed rows in PostgreSQL COPY text format (see core/row-codec.ts), schema in the manifest
 * - `csv` / `ndjson`: raw records as the source gave them (extract output), read by adapt
 */
export type PartFormat = 'tsv' | 'csv' | 'ndjson';

export interface PartInfo {
  name: string;
  rows: number;
  bytes: number;
  sha256: string;
  /** Where the part's content came from (a source file), for rejects and lineage. */
  origin?: string;
  compression?: 'gzip';
}

/** Written last: a stage's output exists only when its manifest does, and readers read only what it lists. */
export interface Manifest {
  version: 1;
  tenant: string;
  job: string;
  run: string;
  stage: StageName;
  attempt: number;
  createdAt: string;
  format: PartFormat;
  /** Typed parts (tsv): the columns in order. */
  schema?: Schema;
  /** Raw csv parts: how to read them. */
  csv?: { delimiter: string; quote: string; escape: string; header: boolean; columns?: string[]; encoding?: string };
  parts: PartInfo[];
  rows: number;
  bytes: number;
  rejects?: { rows: number; parts: PartInfo[] };
  /** Extract of an incremental source: the cursor and the range {from, to} this output holds (see src/runtime/incremental-cursor.ts). */
  cursor?: { name: string; from: string | null; to: string | null };
  /** Stage figures the runtime records (rows in/out/rejected, sink results…). */
  figures: Record<string, number | string>;
}

export function stagePath(ref: StageRef): string {
  return `${ref.tenant}/${ref.job}/${ref.run}/${ref.stage}`;
}

export function partName(index: number, ext: string): string {
  return `part-${String(index).padStart(5, '0')}.${ext}`;
}

/** What a writer hands to `commit`; the totals and the version are filled in by `buildManifest`. */
export type ManifestDraft = Omit<Manifest, 'parts' | 'rows' | 'bytes' | 'rejects' | 'version' | 'createdAt'> & { parts: PartInfo[]; rejects?: PartInfo[] };

/** The manifest a commit writes, the same on every buffer. */
export function buildManifest(draft: ManifestDraft): Manifest {
  const { rejects, parts, ...rest } = draft;
  const manifest: Manifest = {
    version: 1,
    ...rest,
    createdAt: new Date().toISOString(),
    parts,
    rows: parts.reduce((a, p) => a + p.rows, 0),
    bytes: parts.reduce((a, p) => a + p.bytes, 0),
  };
  if (rejects && rejects.length > 0) manifest.rejects = { rows: rejects.reduce((a, p) => a + p.rows, 0), parts: rejects };
  return manifest;
}

/** Counts and hashes a part's bytes as they pass, for its PartInfo. */
export class PartTally {
  private readonly hash = createHash('sha256');
  private bytes = 0;

  constructor(readonly name: string, private readonly extra: Pick<PartInfo, 'origin' | 'compression'> = {}) {}

  add(chunk: string | Uint8Array): Uint8Array {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    this.hash.update(buf);
    this.bytes += buf.length;
    return buf;
  }

  info(rows: number): PartInfo {
    const info: PartInfo = { name: this.name, rows, bytes: this.bytes, sha256: this.hash.digest('hex') };
    if (this.extra.origin !== undefined) info.origin = this.extra.origin;
    if (this.extra.compression !== undefined) info.compression = this.extra.compression;
    return info;
  }
}
