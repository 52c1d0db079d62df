import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { StageName } from '../buffer/manifest.js';
import { SpecError } from '../core/errors.js';
import type { RunQuery, RunRecord, StageAttemptRecord, StateStore } from './store.js';

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
   CREATE TABLE cursors (
     tenant TEXT NOT NULL, job TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, run_id TEXT NOT NULL,
     updated_at TEXT NOT NULL, PRIMARY KEY (tenant, job, name));`,
];

const RUN_COLUMNS: Record<string, string> = { job: 'job', tenant: 'tenant', status: 'status', trigger: 'trigger', jobFile: 'job_file', buffer: 'buffer', params: 'params', createdAt: 'created_at', startedAt: 'started_at', finishedAt: 'finished_at', error: 'error', figures: 'figures', runner: 'runner', slot: 'slot' };
const ATTEMPT_COLUMNS: Record<string, string> = { status: 'status', executor: 'executor', taskId: 'task_id', startedAt: 'started_at', finishedAt: 'finished_at', exitCode: 'exit_code', signal: 'signal', error: 'error', rowsIn: 'rows_in', rowsOut: 'rows_out', rowsRejected: 'rows_rejected', bytesOut: 'bytes_out', durationMs: 'duration_ms', peakRssBytes: 'peak_rss_bytes', cpuSeconds: 'cpu_seconds' };
const JSON_FIELDS = new Set(['params', 'error', 'figures']);

function toDb(key: string, value: unknown): unknown {
  if (JSON_FIELDS.has(key)) return value === null || value === undefined ? null : JSON.stringify(value);
  return value === undefined ? null : value;
}

type DbRow = Record<string, unknown>;

function runFromDb(r: DbRow): RunRecord {
  return {
    id: r.id as string, job: r.job as string, tenant: r.tenant as string, status: r.status as RunRecord['status'], trigger: r.trigger as string,
    jobFile: r.job_file as string, buffer: r.buffer as string, params: JSON.parse(r.params as string) as Record<string, string>,
    createdAt: r.created_at as string, startedAt: (r.started_at as string | null) ?? null, finishedAt: (r.finished_at as string | null) ?? null,
    error: r.error ? (JSON.parse(r.error as string) as RunRecord['error']) : null, figures: JSON.parse(r.figures as string) as RunRecord['figures'],
    runner: (r.runner as string | null) ?? null, slot: (r.slot as string | null) ?? null,
  };
}

function attemptFromDb(r: DbRow): StageAttemptRecord {
  return {
    runId: r.run_id as string, stage: r.stage as StageName, attempt: r.attempt as number, status: r.status as StageAttemptRecord['status'],
    executor: r.executor as string, taskId: (r.task_id as string | null) ?? null, startedAt: r.started_at as string, finishedAt: (r.finished_at as string | null) ?? null,
    exitCode: (r.exit_code as number | null) ?? null, signal: (r.signal as string | null) ?? null, error: r.error ? (JSON.parse(r.error as string) as StageAttemptRecord['error']) : null,
    rowsIn: (r.rows_in as number | null) ?? null, rowsOut: (r.rows_out as number | null) ?? null, rowsRejected: (r.rows_rejected as number | null) ?? null,
    bytesOut: (r.bytes_out as number | null) ?? null, durationMs: (r.duration_ms as number | null) ?? null, peakRssBytes: (r.peak_rss_bytes as number | null) ?? null,
    cpuSeconds: (r.cpu_seconds as number | null) ?? null,
  };
}

/** The embedded state store: one SQLite file in WAL mode, safe for several readers and one writer process. */
export class SqliteStateStore implements StateStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { timeout: 10_000 });
    // busy_timeout first: several processes may open a new home at once (cron, CI, serve).
    this.db.pragma('busy_timeout = 10000');
    this.db.pragma('journal_mode = WAL');
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
    this.db.prepare(`INSERT INTO runs (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`).run(...keys.map((k) => toDb(k, (run as unknown as Record<string, unknown>)[k])));
  }

  async updateRun(id: string, patch: Partial<Omit<RunRecord, 'id'>>): Promise<void> {
    const keys = Object.keys(patch).filter((k) => RUN_COLUMNS[k]);
    if (keys.length === 0) return;
    this.db.prepare(`UPDATE runs SET ${keys.map((k) => `${RUN_COLUMNS[k]} = ?`).join(', ')} WHERE id = ?`).run(...keys.map((k) => toDb(k, (patch as Record<string, unknown>)[k])), id);
  }

  async getRun(id: string): Promise<RunRecord | null> {
    const r = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as DbRow | undefined;
    return r ? runFromDb(r) : null;
  }

  async findRun(idOrPrefix: string): Promise<RunRecord | null> {
    const exact = await this.getRun(idOrPrefix);
    if (exact) return exact;
    const rows = this.db.prepare("SELECT * FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY id DESC LIMIT 6").all(idOrPrefix.replace(/[\\%_]/g, (c) => '\\' + c) + '%') as DbRow[];
    if (rows.length > 1) throw new SpecError(`'${idOrPrefix}' matches several runs (${rows.slice(0, 5).map((r) => r.id as string).join(', ')}${rows.length > 5 ? ', …' : ''}); give more of the id`);
    return rows.length === 1 ? runFromDb(rows[0]!) : null;
  }

  async listRuns(q: RunQuery = {}): Promise<RunRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.job) (where.push('job = ?'), args.push(q.job));
    if (q.tenant) (where.push('tenant = ?'), args.push(q.tenant));
    if (q.status) (where.push('status = ?'), args.push(q.status));
    const sql = `SELECT * FROM runs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC, id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.limit ?? 50) as DbRow[]).map(runFromDb);
  }

  async startAttempt(a: StageAttemptRecord): Promise<void> {
    const keys = ['runId', 'stage', 'attempt', ...Object.keys(ATTEMPT_COLUMNS)];
    const cols = keys.map((k) => ({ runId: 'run_id', stage: 'stage', attempt: 'attempt' })[k as 'runId'] ?? ATTEMPT_COLUMNS[k]!);
    this.db.prepare(`INSERT OR REPLACE INTO stage_attempts (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`).run(...keys.map((k) => toDb(k, (a as unknown as Record<string, unknown>)[k])));
  }

  async finishAttempt(runId: string, stage: StageName, attempt: number, patch: Partial<StageAttemptRecord>): Promise<void> {
    const keys = Object.keys(patch).filter((k) => ATTEMPT_COLUMNS[k]);
    if (keys.length === 0) return;
    this.db.prepare(`UPDATE stage_attempts SET ${keys.map((k) => `${ATTEMPT_COLUMNS[k]} = ?`).join(', ')} WHERE run_id = ? AND stage = ? AND attempt = ?`).run(...keys.map((k) => toDb(k, (patch as Record<string, unknown>)[k])), runId, stage, attempt);
  }

  async listAttempts(runId: string): Promise<StageAttemptRecord[]> {
    const order = "CASE stage WHEN 'extract' THEN 0 WHEN 'adapt' THEN 1 WHEN 'transform' THEN 2 ELSE 3 END";
    return (this.db.prepare(`SELECT * FROM stage_attempts WHERE run_id = ? ORDER BY started_at, ${order}, attempt`).all(runId) as DbRow[]).map(attemptFromDb);
  }

  async getCursor(tenant: string, job: string, name: string): Promise<string | null> {
    const r = this.db.prepare('SELECT value FROM cursors WHERE tenant = ? AND job = ? AND name = ?').get(tenant, job, name) as { value: string } | undefined;
    return r?.value ?? null;
  }

  async setCursor(tenant: string, job: string, name: string, value: string, runId: string): Promise<void> {
    this.db.prepare(`INSERT INTO cursors (tenant, job, name, value, run_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (tenant, job, name) DO UPDATE SET value = excluded.value, run_id = excluded.run_id, updated_at = excluded.updated_at`).run(tenant, job, name, value, runId, new Date().toISOString());
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
