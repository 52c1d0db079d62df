import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { StageName } from '../buffer/manifest.js';
import { SpecError } from '../core/errors.js';
import type { IncidentRecord, RunQuery, RunRecord, StageAttemptRecord, StateStore } from './store.js';
import { ambiguousPrefix, ATTEMPT_COLUMNS, ATTEMPT_KEY_COLUMNS, attemptFromDb, CURSORS_TABLE, incidentFromDb, INCIDENTS_TABLE, likePrefix, RUN_COLUMNS, runFromDb, STAGE_ORDER_SQL, toDb, type DbRow } from './store-rows.js';
import { statementCache } from './sqlite-statements.js';

const MIGRATIONS = [
  `CREATE TABLE runs (
     id TEXT PRIMARY KEY, job TEXT NOT NULL, tenant TEXT NOT NULL, status TEXT NOT NULL, trigger TEXT NOT NULL,
     job_file TEXT NOT NULL, buffer TEXT NOT NULL, params TEXT NOT NULL, created_at TEXT NOT NULL,
     started_at TEXT, finished_at TEXT, error TEXT, figures TEXT NOT NULL);
   CREATE INDEX runs_by_job ON runs (job, created_at);
   CREATE TABLE stage_attempts (
     run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, stage TEXT NOT NULL, attempt INTEGER NOT NULL,
     status TEXT NOT NULL, executor TEXT NOT NULL, task_id TEXT, started_at TEXT NOT NULL, finished_at TEXT,
     exit_code INTEGER, signal TEXT, error TEXT, rows_in INTEGER, rows_out INTEGER, rows_rejected INTEGER,
     bytes_out INTEGER, duration_ms INTEGER, peak_rss_bytes INTEGER, cpu_seconds REAL,
     PRIMARY KEY (run_id, stage, attempt));`,
  `ALTER TABLE runs ADD COLUMN runner TEXT;`,
  `ALTER TABLE runs ADD COLUMN slot TEXT;
   ${CURSORS_TABLE}`,
  INCIDENTS_TABLE,
];

/** The embedded state store: one SQLite file in WAL mode, safe for several readers and one writer process. */
export class SqliteStateStore implements StateStore {
  private readonly db: Database.Database;
  private readonly statement: (sql: string) => Database.Statement;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { timeout: 10_000 });
    this.statement = statementCache(this.db);
    // busy_timeout first: several processes may open a new home at once (cron, CI, serve).
    this.db.pragma('busy_timeout = 10000');
    this.db.pragma('journal_mode = WAL');
    // With WAL, NORMAL loses no commit when a process dies (kill -9): only a power cut or an OS crash
    // may drop the last commits, never corrupt the file. It spares an fsync per commit, which every run
    // and stage attempt and every fire of `serve` would otherwise wait for.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    // IMMEDIATE takes the write lock before reading the version, so only one process migrates.
    this.db.transaction(() => {
      const version = this.db.pragma('user_version', { simple: true }) as number;
      for (let v = version; v < MIGRATIONS.length; v++) this.db.exec(MIGRATIONS[v]!);
      if (version < MIGRATIONS.length) this.db.pragma(`user_version = ${MIGRATIONS.length}`);
    }).immediate();
  }

  async createRun(run: RunRecord): Promise<void> {
    const keys = ['id', ...Object.keys(RUN_COLUMNS)];
    const cols = keys.map((k) => (k === 'id' ? 'id' : RUN_COLUMNS[k]!));
    this.statement(`INSERT INTO runs (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`).run(...keys.map((k) => toDb(k, (run as unknown as Record<string, unknown>)[k])));
  }

  async updateRun(id: string, patch: Partial<Omit<RunRecord, 'id'>>): Promise<void> {
    const keys = Object.keys(patch).filter((k) => RUN_COLUMNS[k]);
    if (keys.length === 0) return;
    this.statement(`UPDATE runs SET ${keys.map((k) => `${RUN_COLUMNS[k]} = ?`).join(', ')} WHERE id = ?`).run(...keys.map((k) => toDb(k, (patch as Record<string, unknown>)[k])), id);
  }

  async getRun(id: string): Promise<RunRecord | null> {
    const r = this.statement('SELECT * FROM runs WHERE id = ?').get(id) as DbRow | undefined;
    return r ? runFromDb(r) : null;
  }

  async findRun(idOrPrefix: string): Promise<RunRecord | null> {
    const exact = await this.getRun(idOrPrefix);
    if (exact) return exact;
    const rows = this.statement("SELECT * FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY id DESC LIMIT 6").all(likePrefix(idOrPrefix)) as DbRow[];
    if (rows.length > 1) throw new SpecError(ambiguousPrefix(idOrPrefix, rows.map((r) => r.id as string)));
    return rows.length === 1 ? runFromDb(rows[0]!) : null;
  }

  async listRuns(q: RunQuery = {}): Promise<RunRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.job) (where.push('job = ?'), args.push(q.job));
    if (q.tenant) (where.push('tenant = ?'), args.push(q.tenant));
    if (q.status) (where.push('status = ?'), args.push(q.status));
    const sql = `SELECT * FROM runs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC, id DESC LIMIT ?`;
    return (this.statement(sql).all(...args, q.limit ?? 50) as DbRow[]).map(runFromDb);
  }

  async startAttempt(a: StageAttemptRecord): Promise<void> {
    const keys = ['runId', 'stage', 'attempt', ...Object.keys(ATTEMPT_COLUMNS)];
    const cols = keys.map((k) => ATTEMPT_KEY_COLUMNS[k] ?? ATTEMPT_COLUMNS[k]!);
    this.statement(`INSERT OR REPLACE INTO stage_attempts (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`).run(...keys.map((k) => toDb(k, (a as unknown as Record<string, unknown>)[k])));
  }

  async finishAttempt(runId: string, stage: StageName, attempt: number, patch: Partial<StageAttemptRecord>): Promise<void> {
    const keys = Object.keys(patch).filter((k) => ATTEMPT_COLUMNS[k]);
    if (keys.length === 0) return;
    this.statement(`UPDATE stage_attempts SET ${keys.map((k) => `${ATTEMPT_COLUMNS[k]} = ?`).join(', ')} WHERE run_id = ? AND stage = ? AND attempt = ?`).run(...keys.map((k) => toDb(k, (patch as Record<string, unknown>)[k])), runId, stage, attempt);
  }

  async listAttempts(runId: string): Promise<StageAttemptRecord[]> {
    return (this.statement(`SELECT * FROM stage_attempts WHERE run_id = ? ORDER BY started_at, ${STAGE_ORDER_SQL}, attempt`).all(runId) as DbRow[]).map(attemptFromDb);
  }

  async getCursor(tenant: string, job: string, name: string): Promise<string | null> {
    const r = this.statement('SELECT value FROM cursors WHERE tenant = ? AND job = ? AND name = ?').get(tenant, job, name) as { value: string } | undefined;
    return r?.value ?? null;
  }

  async setCursor(tenant: string, job: string, name: string, value: string, runId: string): Promise<void> {
    this.statement(`INSERT INTO cursors (tenant, job, name, value, run_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (tenant, job, name) DO UPDATE SET value = excluded.value, run_id = excluded.run_id, updated_at = excluded.updated_at`).run(tenant, job, name, value, runId, new Date().toISOString());
  }

  async openIncident(i: IncidentRecord): Promise<boolean> {
    const r = this.statement('INSERT INTO incidents (tenant, job, channel, opened_by, opened_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING').run(i.tenant, i.job, i.channel, i.openedBy, i.openedAt);
    return r.changes === 1;
  }

  async closeIncident(tenant: string, job: string, channel: string): Promise<IncidentRecord | null> {
    const r = this.statement('DELETE FROM incidents WHERE tenant = ? AND job = ? AND channel = ? RETURNING *').get(tenant, job, channel) as DbRow | undefined;
    return r ? incidentFromDb(r) : null;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
