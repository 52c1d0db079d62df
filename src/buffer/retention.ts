import { dirname } from 'node:path';
import { parseDuration } from '../spec/units.js';
import type { RunRecord, StateStore } from '../state/store.js';
import { openBuffer } from './open-buffer.js';
import { displayS3Url } from './s3-url.js';

/** The retention of a job that does not set one (DESIGN §3: configurable; `retention:` in the job). */
export const DEFAULT_RETENTION = '7d';

export interface GcOptions {
  store: StateStore;
  /** Buffers to sweep besides those the state store's runs used (URLs as in a job's `buffer:`). */
  buffers?: string[];
  /** Overrides every job's own retention. */
  olderThanMs?: number;
  dryRun?: boolean;
  /** Resolves relative file:// buffers and ${file:…} references of --buffer URLs. */
  baseDir: string;
  now?: Date;
}

export interface GcEntry {
  buffer: string;
  tenant: string;
  job: string;
  run: string;
  lastModified: string;
  retentionMs: number;
  action: 'removed' | 'would remove' | 'kept: running' | 'kept: within retention';
}

/** Every run the store knows, newest first (the store pages; retention needs them all). */
async function allRuns(store: StateStore): Promise<RunRecord[]> {
  return store.listRuns({ limit: Number.MAX_SAFE_INTEGER });
}

/**
 * Removes run folders older than their job's retention from every buffer runs were written to. Age is
 * the time since the run's newest object was written, so a run still writing is never removed; a run the
 * state store records as running or queued is never removed either, however old.
 */
export async function collectGarbage(options: GcOptions): Promise<GcEntry[]> {
  const now = (options.now ?? new Date()).getTime();
  const runs = await allRuns(options.store);
  const active = new Set(runs.filter((r) => r.status === 'running' || r.status === 'queued').map((r) => r.id));
  const buffers = new Map<string, string>();
  for (const r of runs) if (!buffers.has(r.buffer)) buffers.set(r.buffer, dirname(r.jobFile));
  for (const b of options.buffers ?? []) if (!buffers.has(b)) buffers.set(b, options.baseDir);
  const out: GcEntry[] = [];
  for (const [url, baseDir] of buffers) {
    const buffer = openBuffer(url, baseDir);
    for await (const found of buffer.listRuns()) {
      let retentionMs = options.olderThanMs;
      if (retentionMs === undefined) {
        const spec = await buffer.getRunFile(found, '_job.json').catch(() => null);
        const written = spec ? ((JSON.parse(spec) as { retention?: string | number }).retention ?? DEFAULT_RETENTION) : DEFAULT_RETENTION;
        retentionMs = parseDuration(written) ?? parseDuration(DEFAULT_RETENTION)!;
      }
      const entry: GcEntry = { buffer: displayS3Url(url), tenant: found.tenant, job: found.job, run: found.run, lastModified: found.lastModified.toISOString(), retentionMs, action: 'kept: within retention' };
      if (active.has(found.run)) entry.action = 'kept: running';
      else if (now - found.lastModified.getTime() >= retentionMs) {
        if (!options.dryRun) await buffer.removeRun(found);
        entry.action = options.dryRun ? 'would remove' : 'removed';
      }
      out.push(entry);
    }
  }
  return out;
}
