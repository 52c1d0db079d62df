import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { fireFromRow, fireWhere, type Row } from './fire-rows.js';
import type { FireQuery, FireRecord, ScheduleStore } from './schedule-store.js';
import { statementCache } from '../state/sqlite-statements.js';

/**
 * Kept apart from the run store's `user_version` numbering (another component migrates that file), so
 * the scheduler's tables have their own version row.
 */
const MIGRATIONS = [
  `CREATE TABLE schedule_fires (
     job TEXT NOT NULL, slot TEXT NOT NULL, status TEXT NOT NULL, run_id TEXT, fired_at TEXT NOT NULL,
     origin TEXT NOT NULL, reason TEXT, resumes INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (job, slot));
   CREATE INDEX schedule_fires_by_status ON schedule_fires (status);
   CREATE TABLE schedule_paused (job TEXT PRIMARY KEY, paused_at TEXT NOT NULL);
   CREATE TABLE schedule_jobs (job TEXT PRIMARY KEY, first_seen TEXT NOT NULL);
   CREATE TABLE schedule_leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_ms INTEGER NOT NULL);`,
];

/** The scheduler's records in the state store's SQLite file, on a connection of its own. */
export class SqliteScheduleStore implements ScheduleStore {
  private readonly db: Database.Database;
  private readonly statement: (sql: string) => Database.Statement;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { timeout: 10_000 });
    this.statement = statementCache(this.db);
    this.db.pragma('busy_timeout = 10000');
    this.db.pragma('journal_mode = WAL');
    // In WAL mode NORMAL keeps every commit across a crash of the process (kill -9); only a power cut
    // may lose the last commits. It spares an fsync per fire (see docs/scheduling.md, the benchmark).
    this.db.pragma('synchronous = NORMAL');
    this.db.transaction(() => {
      this.db.exec('CREATE TABLE IF NOT EXISTS schedule_schema (version INTEGER NOT NULL)');
      const row = this.db.prepare('SELECT version FROM schedule_schema').get() as { version: number } | undefined;
      const version = row?.version ?? 0;
      for (let v = version; v < MIGRATIONS.length; v++) this.db.exec(MIGRATIONS[v]!);
      if (!row) this.db.prepare('INSERT INTO schedule_schema (version) VALUES (?)').run(MIGRATIONS.length);
      else if (version < MIGRATIONS.length) this.db.prepare('UPDATE schedule_schema SET version = ?').run(MIGRATIONS.length);
    }).immediate();
  }

  async claimFires(fires: FireRecord[]): Promise<FireRecord[]> {
    const insert = this.statement('INSERT OR IGNORE INTO schedule_fires (job, slot, status, run_id, fired_at, origin, reason, resumes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    return this.db.transaction(() => fires.filter((f) => insert.run(f.job, f.slot, f.status, f.runId, f.firedAt, f.origin, f.reason, f.resumes).changes === 1)).immediate();
  }

  async updateFire(job: string, slot: string, patch: Partial<Pick<FireRecord, 'status' | 'runId' | 'reason' | 'resumes'>>): Promise<void> {
    const cols: Record<string, string> = { status: 'status', runId: 'run_id', reason: 'reason', resumes: 'resumes' };
    const keys = Object.keys(patch).filter((k) => cols[k]);
    if (keys.length === 0) return;
    this.statement(`UPDATE schedule_fires SET ${keys.map((k) => `${cols[k]} = ?`).join(', ')} WHERE job = ? AND slot = ?`).run(...keys.map((k) => (patch as Record<string, unknown>)[k] ?? null), job, slot);
  }

  async getFire(job: string, slot: string): Promise<FireRecord | null> {
    const r = this.statement('SELECT * FROM schedule_fires WHERE job = ? AND slot = ?').get(job, slot) as Row | undefined;
    return r ? fireFromRow(r) : null;
  }

  async listFires(q: FireQuery = {}): Promise<FireRecord[]> {
    const { sql, args } = fireWhere(q, () => '?');
    return (this.statement(`SELECT * FROM schedule_fires ${sql}`).all(...args) as Row[]).map(fireFromRow);
  }

  async registerJob(job: string, at: string): Promise<string> {
    this.statement('INSERT OR IGNORE INTO schedule_jobs (job, first_seen) VALUES (?, ?)').run(job, at);
    return (this.statement('SELECT first_seen FROM schedule_jobs WHERE job = ?').get(job) as { first_seen: string }).first_seen;
  }

  async setPaused(job: string, paused: boolean): Promise<void> {
    if (paused) this.statement('INSERT OR IGNORE INTO schedule_paused (job, paused_at) VALUES (?, ?)').run(job, new Date().toISOString());
    else this.statement('DELETE FROM schedule_paused WHERE job = ?').run(job);
  }

  async pausedJobs(): Promise<Set<string>> {
    return new Set((this.statement('SELECT job FROM schedule_paused').all() as Array<{ job: string }>).map((r) => r.job));
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const r = this.statement(`INSERT INTO schedule_leases (name, holder, expires_ms) VALUES (?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms
      WHERE schedule_leases.holder = excluded.holder OR schedule_leases.expires_ms < ?`).run(name, holder, now + ttlMs, now);
    return r.changes === 1;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    this.statement('DELETE FROM schedule_leases WHERE name = ? AND holder = ?').run(name, holder);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
