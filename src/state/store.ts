import type { StageName } from '../buffer/manifest.js';

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'interrupted';
export type AttemptStatus = 'running' | 'succeeded' | 'failed';

export interface RunError {
  stage: StageName | null;
  name: string;
  message: string;
  retryable: boolean;
  where?: string;
}

export interface RunRecord {
  id: string;
  job: string;
  tenant: string;
  status: RunStatus;
  trigger: string;
  jobFile: string;
  buffer: string;
  params: Record<string, string>;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: RunError | null;
  /** Headline figures: rows extracted, loaded, rejected; the load target. */
  figures: Record<string, number | string>;
  /** `host:pid` of the process driving the run, to tell a live run from one whose runner died. */
  runner: string | null;
  /** The scheduled time (ISO-8601 UTC) this run was fired for; null for runs started by hand. */
  slot: string | null;
}

export interface StageAttemptRecord {
  runId: string;
  stage: StageName;
  attempt: number;
  status: AttemptStatus;
  executor: string;
  taskId: string | null;
  startedAt: string;
  finishedAt: string | null;
  exitCode: number | null;
  signal: string | null;
  error: RunError | null;
  rowsIn: number | null;
  rowsOut: number | null;
  rowsRejected: number | null;
  bytesOut: number | null;
  durationMs: number | null;
  peakRssBytes: number | null;
  cpuSeconds: number | null;
}

/** An open notification incident: the job's runs have failed since `openedBy`, and the channel was told once. */
export interface IncidentRecord {
  tenant: string;
  job: string;
  /** Where it was announced, e.g. `slack`. */
  channel: string;
  openedBy: string;
  openedAt: string;
}

export interface RunQuery {
  job?: string;
  tenant?: string;
  status?: RunStatus;
  limit?: number;
}

/**
 * Where runs and stage attempts are recorded. Only the runtime writes here; stages never do (DESIGN §4).
 * SQLite by default; a PostgreSQL store implements the same interface for shared deployments.
 */
export interface StateStore {
  createRun(run: RunRecord): Promise<void>;
  updateRun(id: string, patch: Partial<Omit<RunRecord, 'id'>>): Promise<void>;
  getRun(id: string): Promise<RunRecord | null>;
  /** Resolves a unique prefix of a run id (like git's short hashes). */
  findRun(idOrPrefix: string): Promise<RunRecord | null>;
  listRuns(query?: RunQuery): Promise<RunRecord[]>;
  startAttempt(attempt: StageAttemptRecord): Promise<void>;
  finishAttempt(runId: string, stage: StageName, attempt: number, patch: Partial<StageAttemptRecord>): Promise<void>;
  listAttempts(runId: string): Promise<StageAttemptRecord[]>;
  /** An incremental source's high-water mark (e.g. the last `updated_at` loaded), or null before the first run. */
  getCursor(tenant: string, job: string, name: string): Promise<string | null>;
  /**
   * Moves the high-water mark. The runtime calls it only after the run's load has committed, so a failed
   * run never skips rows: the next run extracts again from the old mark.
   */
  setCursor(tenant: string, job: string, name: string, value: string, runId: string): Promise<void>;
  /** Opens the job's incident unless one is open; true only for the call that opened it (one message per incident). */
  openIncident(incident: IncidentRecord): Promise<boolean>;
  /** Closes the job's open incident and returns it; null when none was open (nothing to recover from). */
  closeIncident(tenant: string, job: string, channel: string): Promise<IncidentRecord | null>;
  close(): Promise<void>;
}
