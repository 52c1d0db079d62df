import type winston from 'winston';
import type { StageBuffer } from '../buffer/buffer.js';
import type { StageRef } from '../buffer/manifest.js';
import type { CursorRange } from '../core/connector.js';
import type { JobSpec } from '../spec/job-schema.js';
import type { RunRecord, StateStore } from '../state/store.js';

/*
 * Incremental extracts (`extract.incremental`) read only what is above a high-water mark kept in the state
 * store. Stages never touch the store (DESIGN §4), so the mark travels through the run's buffer:
 *
 * 1. the runtime, before extract, reads the stored mark and writes it into the run as `_cursor.json`;
 * 2. extract reads above it and records the range it read, {from, to}, in its manifest; a replay of the
 *    extract of the same run reads that same range again;
 * 3. the runtime, once the load has committed, moves the stored mark to `to` — and only if the mark is
 *    still the one this run started from, so an old run replayed later never moves it back.
 *
 * A run that fails anywhere before 3 leaves the mark where it was: the next run reads those rows again.
 */

const RUN_FILE = '_cursor.json';

interface CursorStart {
  name: string;
  /** The mark in the state store when the run started (null before the first successful run). */
  stored: string | null;
}

/** The state-store name of a job's cursor (`postgres:updated_at`), or null when the extract is not incremental. */
export function cursorName(extract: JobSpec['extract']): string | null {
  const inc = extract.incremental as { column?: unknown; field?: unknown } | undefined;
  const key = inc?.column ?? inc?.field;
  return typeof key === 'string' && key.length > 0 ? `${extract.from}:${key}` : null;
}

function runRef(run: Pick<RunRecord, 'tenant' | 'job' | 'id'>): Omit<StageRef, 'stage'> {
  return { tenant: run.tenant, job: run.job, run: run.id };
}

async function readStart(buffer: StageBuffer, ref: Omit<StageRef, 'stage'>): Promise<CursorStart | null> {
  const text = await buffer.getRunFile(ref, RUN_FILE);
  return text === null ? null : (JSON.parse(text) as CursorStart);
}

/** Runtime, when a run is created: hands the stored mark to the run's extract. */
export async function recordCursorStart(store: StateStore, buffer: StageBuffer, run: RunRecord, spec: JobSpec): Promise<void> {
  const name = cursorName(spec.extract);
  if (name === null) return;
  const start: CursorStart = { name, stored: await store.getCursor(run.tenant, run.job, name) };
  await buffer.putRunFile(runRef(run), RUN_FILE, JSON.stringify(start));
}

/**
 * Extract stage: the range to read. An extract already committed for this run (a replay) fixes the range
 * to what it read then; otherwise everything above the mark the run started from.
 */
export async function extractRange(buffer: StageBuffer, ref: StageRef): Promise<CursorRange | undefined> {
  const start = await readStart(buffer, ref);
  if (start === null) return undefined;
  const earlier = await buffer.readManifest({ ...ref, stage: 'extract' });
  if (earlier?.cursor && earlier.cursor.name === start.name) return { from: earlier.cursor.from, to: earlier.cursor.to };
  return { from: start.stored, to: null };
}

/**
 * Runtime, after the run's load committed: moves the mark to the end of the range the run extracted.
 * Returns the new mark, or null when it stays.
 */
export async function commitCursor(store: StateStore, buffer: StageBuffer, run: RunRecord, spec: JobSpec, log: winston.Logger): Promise<string | null> {
  const name = cursorName(spec.extract);
  if (name === null) return null;
  const ref = runRef(run);
  const read = (await buffer.readManifest({ ...ref, stage: 'extract' }))?.cursor;
  if (!read || read.name !== name || read.to === null) return null;
  const start = await readStart(buffer, ref);
  const current = await store.getCursor(run.tenant, run.job, name);
  if (start !== null && start.name === name && current !== start.stored) {
    log.warn(`incremental cursor ${name} not moved: another run moved it (to ${current}) after this run started from ${start.stored ?? 'the beginning'}`, { cursor: name, current, range_to: read.to });
    return null;
  }
  if (current === read.to) return null;
  await store.setCursor(run.tenant, run.job, name, read.to, run.id);
  log.info(`incremental cursor ${name} moved to ${read.to}`, { cursor: name, from: current, to: read.to });
  return read.to;
}
