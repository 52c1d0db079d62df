import type { ExecRequest } from '../exec/exec-container.js';
import type { PoolView } from '../pool/pool-snapshot.js';
import type { RunRecord } from '../state/store.js';

/** One job as `serve` knows it: what the API lists and the UI shows. */
export interface JobView {
  job: string;
  tenant: string;
  /** The job file, relative to the jobs folder. */
  file: string;
  description: string | null;
  /** `cron` text or the ISO-8601 `every` interval; null for jobs run only by hand or after parents. */
  schedule: string | null;
  timezone: string | null;
  after: string[];
  paused: boolean;
  /** The next slot the scheduler will fire (ISO-8601 UTC), or null (paused, unscheduled, finished R/n). */
  nextFireAt: string | null;
  /** Why the job cannot run now, e.g. `blocked: parent raw-import failed (run …) for slot …`; null when fine. */
  blocked: string | null;
  lastRun: Pick<RunRecord, 'id' | 'status' | 'slot' | 'createdAt' | 'finishedAt'> | null;
}

/** A job file in the watched folder that failed to load: reported, skipped, never taking the others down. */
export interface BrokenJobFile {
  file: string;
  problems: string[];
}

/**
 * What the HTTP API (and the web UI) may ask of a running `serve`. The scheduler implements it; the API
 * applies tenant scoping on top (a token sees and triggers only its own tenant's jobs).
 */
export interface ServeControl {
  listJobs(): Promise<JobView[]>;
  brokenFiles(): BrokenJobFile[];
  /** Starts a run now (outside the schedule); resolves once the run is recorded, not when it ends. */
  trigger(job: string, params: Record<string, string>): Promise<RunRecord>;
  pause(job: string): Promise<void>;
  resume(job: string): Promise<void>;
  /** What the server's resource pool runs and what waits. */
  pool(): PoolView;
  /** A one-off container on the server's pool; resolves once the run is recorded, not when it ends. */
  exec(request: ExecRequest): Promise<RunRecord>;
}
