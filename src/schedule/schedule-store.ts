/**
 * What the scheduler keeps so that a restarted or second scheduler never fires a slot twice: one fire
 * record per (job, scheduled slot), written before the run starts; paused jobs; and the leader lease.
 * SQLite (same file as the state store) and PostgreSQL implement it; one test suite runs against both.
 */

/**
 * fired: recorded, its run not started yet · waiting: due, but a parent's run for the period has not
 * succeeded yet · running · succeeded · failed · interrupted (shut down; resumed on restart) ·
 * skipped: never run (missed beyond catchup, forbidden by concurrency, replaced).
 */
export type FireStatus = 'fired' | 'waiting' | 'running' | 'succeeded' | 'failed' | 'interrupted' | 'skipped';

export const OPEN_FIRE_STATUSES: readonly FireStatus[] = ['fired', 'waiting', 'running', 'interrupted'];

export interface FireRecord {
  job: string;
  /** The scheduled time, ISO-8601 UTC with milliseconds: the fire key together with the job. */
  slot: string;
  status: FireStatus;
  runId: string | null;
  /** When the scheduler recorded it (the scheduler's clock). */
  firedAt: string;
  /** schedule | after | backfill | catchup */
  origin: string;
  /** Why it was skipped, blocked or failed without a run. */
  reason: string | null;
  /** How many times a crash-interrupted run of this fire was resumed. */
  resumes: number;
}

export interface FireQuery {
  job?: string;
  statuses?: readonly FireStatus[];
  /** Slots at or after this ISO time. */
  from?: string;
  /** Slots at or before this ISO time. */
  to?: string;
  /** Newest first when set; oldest first otherwise. */
  newestFirst?: boolean;
  limit?: number;
}

export interface ScheduleStore {
  /**
   * Inserts the fires whose (job, slot) is not recorded yet, all in one transaction, and returns exactly
   * those: a fire another scheduler (or an earlier life of this one) already recorded is not returned.
   */
  claimFires(fires: FireRecord[]): Promise<FireRecord[]>;
  updateFire(job: string, slot: string, patch: Partial<Pick<FireRecord, 'status' | 'runId' | 'reason' | 'resumes'>>): Promise<void>;
  getFire(job: string, slot: string): Promise<FireRecord | null>;
  listFires(query?: FireQuery): Promise<FireRecord[]>;
  /**
   * Records when the scheduler first saw a job (kept across restarts) and returns that time: slots and
   * parents' runs from before it never fire the job, so adding a job does not replay history.
   */
  registerJob(job: string, at: string): Promise<string>;
  /** Pause is durable: a restarted server keeps a paused job paused. */
  setPaused(job: string, paused: boolean): Promise<void>;
  pausedJobs(): Promise<Set<string>>;
  /**
   * Takes or renews the named lease for `holder` for `ttlMs` (real time); true while `holder` holds it.
   * Another holder gets it only after it expired, so at most one scheduler leads at a time.
   */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;
  close(): Promise<void>;
}

/** The fire key's slot text: one spelling for one instant, so the unique key really is unique. */
export function slotKey(ms: number): string {
  return new Date(ms).toISOString();
}
