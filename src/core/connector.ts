import type { Readable } from 'node:stream';
import type { StageWriter } from '../buffer/buffer.js';
import type { Manifest, PartInfo } from '../buffer/manifest.js';
import type { Row, Schema } from './schema.js';
import type { StageContext } from './stage-context.js';

/** What extract hands to the buffer: raw parts and how to read them. */
export interface ExtractResult {
  format: 'csv' | 'ndjson';
  csv?: Manifest['csv'];
  parts: PartInfo[];
  figures?: Record<string, number | string>;
  /** What an incremental extract covered; `to` becomes the new high-water mark once the run's load commits. */
  cursor?: Manifest['cursor'];
}

/**
 * The range an incremental extract reads, values as text: above `from` (null: from the start, or the
 * source's configured start) and up to `to` (null: up to whatever the source holds now; set when a replay
 * must read exactly the range an earlier attempt of the run read).
 */
export interface CursorRange {
  from: string | null;
  to: string | null;
}

/** A connector that pulls records from somewhere into raw buffer parts (`extract`). */
export interface Source {
  extract(ctx: StageContext, out: StageWriter, range?: CursorRange): Promise<ExtractResult>;
}

/**
 * A batch of raw records as adapt sees them. CSV records are arrays of strings (matched to `columns`, the
 * header); NDJSON records are parsed objects. `lines` gives each record's first line in `origin`, for
 * reject reasons that point at the input.
 */
export interface RawBatch {
  origin: string;
  columns: readonly string[] | null;
  records: Array<string[] | Record<string, unknown>>;
  lines: number[];
  /** Records that could not even be split (broken quoting, invalid JSON), with why. */
  broken?: Array<{ line: number; raw: string; reason: string }>;
}

/** Reads raw parts of a given format back as batches of records (used by adapt). */
export interface RawReader {
  read(manifest: Manifest, open: (part: PartInfo) => Readable, ctx: StageContext): AsyncIterable<RawBatch>;
}

/** Typed input of a load: the transform stage's committed output. */
export interface TypedInput {
  readonly schema: Schema;
  readonly manifest: Manifest;
  /** Each part's bytes in COPY text format, in order. */
  parts(): AsyncIterable<{ part: PartInfo; stream: Readable }>;
  /** The same rows decoded, in batches. */
  rows(): AsyncIterable<Row[]>;
}

export interface LoadResult {
  /** Rows now in the target because of this run. */
  rowsLoaded: number;
  /** Where they went (table, file path), for display. */
  target: string;
  /** True when an earlier attempt of the same run had already committed this load. */
  alreadyLoaded?: boolean;
  figures?: Record<string, number | string>;
  /** Rows the target refused but the load tolerated, each with its reason (kept in load/_rejects/). */
  rejects?: Array<Record<string, unknown>>;
}

/**
 * Where a sink keeps what the target refused (a document Elasticsearch would not index…): each reject
 * is one NDJSON line in `load/_rejects/` with its `reason`, committed even when the load then fails.
 */
export interface LoadRejects {
  add(reject: { reason: string } & Record<string, unknown>): Promise<void>;
  /** Rejects added so far. */
  readonly rows: number;
}

/** A connector that writes typed rows somewhere, exactly once per run (`load`). */
export interface Sink {
  /** `rejects` is given by the stage; sinks whose target refuses single rows keep them there. */
  load(ctx: StageContext, input: TypedInput, rejects?: LoadRejects): Promise<LoadResult>;
  /** Capability: checks connectivity/permissions before a run starts. */
  check?(ctx: StageContext): Promise<void>;
}
