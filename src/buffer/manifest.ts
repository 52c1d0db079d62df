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
