import pg from 'pg';
import type { StageName } from '../buffer/manifest.js';
import { asDatamillError, SpecError } from '../core/errors.js';
import { describeUrl } from '../spec/secrets.js';
import type { IncidentRecord, RunQuery, RunRecord, StageAttemptRecord, StateStore } from './store.js';
import { ambiguousPrefix, ATTEMPT_COLUMNS, ATTEMPT_KEY_COLUMNS, attemptFromDb, CURSORS_TABLE, incidentFromDb, INCIDENTS_TABLE, likePrefix, RUN_COLUMNS, runFromDb, STAGE_ORDER_SQL, toDb, type DbRow } from './store-rows.js';

/**
 * The same tables as the SQLite store. Times stay ISO-8601 text (they sort correctly and round-trip
 * exactly); params, errors and figures are `json`, which keeps the text as written and is queryable.
 */
const MIGRATIONS = [
  `CREATE TABLE runs (
     id TEXT COLLATE "C" PRIMARY KEY, job TEXT NOT NULL, tenant TEXT NOT NULL, status TEXT NOT NULL, trigger TEXT NOT NULL,
     job_file TEXT NOT NULL, buffer TEXT NOT NULL, params JSON NOT NULL, created_at TEXT COLLATE "C" NOT NULL,
     started_at TEXT, finished_at TEXT, error JSON, figures JSON NOT NULL, runner TEXT, slot TEXT);
   CREATE INDEX runs_by_job ON runs (job, created_at);
   CREATE INDEX runs_by_status ON runs (status);
   CREATE TABLE stage_attempts (
     run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, stage TEXT NOT NULL, attempt INTEGER NOT NULL,
     status TEXT NOT NULL, executor TEXT NOT NULL, task_id TEXT, started_at TEXT COLLATE "C" NOT NULL, finished_at TEXT,
     exit_code INTEGER, signal TEXT, error JSON, rows_in BIGINT, rows_out BIGINT, rows_rejected BIGINT,
     bytes_out BIGINT, duration_ms BIGINT, peak_rss_bytes BIGINT, cpu_seconds DOUBLE PRECISION,
     PRIMARY KEY (run_id, stage, attempt));
   ${CURSORS_TABLE}`,
  INCIDENTS_TABLE,
];

/** Any fixed key: serializes migrations across every Datamill process sharing the database. */
const MIGRATION_LOCK = 0x64_61_74_61_6d_69_6c;

const placeholders = (n: number, from = 1) => Array.from({ length: n }, (_, i) => `$${i + from}`).join(', ');

/** The state store for shared deployments: several `serve` replicas and CLIs on one PostgreSQL. */
export class PostgresStateStore implements StateStore {
  private constructor(private readonly pool: pg.Pool) {}

  /** Connects and brings the schema up to date (in a transaction, under an advisory lock). */
  static async open(url: string, options: { max?: number } = {}): Promise<PostgresStateStore> {
    const pool = new pg.Pool({ connectionString: url, max: options.max ?? 4, application_name: 'datamill' });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    const store = new PostgresStateStore(pool);
    try {
      await store.migrate();
    } catch (err) {
      await pool.end().catch(() => undefined);
      const e = asDatamillError(err);
      throw new SpecError(`cannot open the PostgreSQL state store at ${describeUrl(url)}: ${e.message}`, { cause: err });
    }
    return store;
  }

  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query('CREATE TABLE IF NOT EXISTS datamill_schema (version INTEGER NOT NULL)');
      const { rows } = await client.query<{ version: number }>('SELECT version FROM datamill_schema');
      const version = rows[0]?.version ?? 0;
      for (let v = version; v < MIGRATIONS.length; v++) await client.query(MIGRATIONS[v]!);
      if (rows.length === 0) await client.query('INSERT INTO datamill_schema (version) VALUES ($1)', [MIGRATIONS.length]);
      else if (version < MIGRATIONS.length) await client.query('UPDATE datamill_schema SET version = $1', [MIGRATIONS.length]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  private async rows(sql: string, args: unknown[] = []): Promise<DbRow[]> {
    return (await this.pool.query(sql, args)).rows as DbRow[];
  }

  async createRun(run: RunRecord): Promise<void> {
    const keys = ['id', ...Object.keys(RUN_COLUMNS)];
    const cols = keys.map((k) => (k === 'id' ? 'id' : RUN_COLUMNS[k]!));
    await this.rows(`INSERT INTO runs (${cols.join(', ')}) VALUES (${placeholders(cols.length)})`, keys.map((k) => toDb(k, (run as unknown as Record<string, unknown>)[k])));
  }

  async updateRun(id: string, patch: Partial<Omit<RunRecord, 'id'>>): Promise<void> {
    const keys = Object.keys(patch).filter((k) => RUN_COLUMNS[k]);
    if (keys.length === 0) return;
    await this.rows(`UPDATE runs SET ${keys.map((k, i) => `${RUN_COLUMNS[k]} = $${i + 1}`).join(', ')} WHERE id = $${keys.length + 1}`, [...keys.map((k) => toDb(k, (patch as Record<string, unknown>)[k])), id]);
  }

  async getRun(id: string): Promise<RunRecord | null> {
    const [r] = await this.rows('SELECT * FROM runs WHERE id = $1', [id]);
    return r ? runFromDb(r) : null;
  }

  async findRun(idOrPrefix: string): Promise<RunRecord | null> {
    const exact = await this.getRun(idOrPrefix);
    if (exact) return exact;
    const rows = await this.rows("SELECT * FROM runs WHERE id LIKE $1 ESCAPE '\\' ORDER BY id DESC LIMIT 6", [likePrefix(idOrPrefix)]);
    if (rows.length > 1) throw new SpecError(ambiguousPrefix(idOrPrefix, rows.map((r) => r.id as string)));
    return rows.length === 1 ? runFromDb(rows[0]!) : null;
  }

  async listRuns(q: RunQuery = {}): Promise<RunRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    for (const [key, value] of [['job', q.job], ['tenant', q.tenant], ['status', q.status]] as const) {
      if (!value) continue;
      args.push(value);
      where.push(`${key} = $${args.length}`);
    }
    args.push(q.limit ?? 50);
    const sql = `SELECT * FROM runs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC, id DESC LIMIT $${args.length}`;
    return (await this.rows(sql, args)).map(runFromDb);
  }

  async startAttempt(a: StageAttemptRecord): Promise<void> {
    const keys = ['runId', 'stage', 'attempt', ...Object.keys(ATTEMPT_COLUMNS)];
    const cols = keys.map((k) => ATTEMPT_KEY_COLUMNS[k] ?? ATTEMPT_COLUMNS[k]!);
    const update = Object.values(ATTEMPT_COLUMNS).map((c) => `${c} = EXCLUDED.${c}`).join(', ');
    await this.rows(`INSERT INTO stage_attempts (${cols.join(', ')}) VALUES (${placeholders(cols.length)}) ON CONFLICT (run_id, stage, attempt) DO UPDATE SET ${update}`, keys.map((k) => toDb(k, (a as unknown as Record<string, unknown>)[k])));
  }

  async finishAttempt(runId: string, stage: StageName, attempt: number, patch: Partial<StageAttemptRecord>): Promise<void> {
    const keys = Object.keys(patch).filter((k) => ATTEMPT_COLUMNS[k]);
    if (keys.length === 0) return;
    const n = keys.length;
    await this.rows(`UPDATE stage_attempts SET ${keys.map((k, i) => `${ATTEMPT_COLUMNS[k]} = $${i + 1}`).join(', ')} WHERE run_id = $${n + 1} AND stage = $${n + 2} AND attempt = $${n + 3}`, [...keys.map((k) => toDb(k, (patch as Record<string, unknown>)[k])), runId, stage, attempt]);
  }

  async listAttempts(runId: string): Promise<StageAttemptRecord[]> {
    return (await this.rows(`SELECT * FROM stage_attempts WHERE run_id = $1 ORDER BY started_at, ${STAGE_ORDER_SQL}, attempt`, [runId])).map(attemptFromDb);
  }

  async getCursor(tenant: string, job: string, name: string): Promise<string | null> {
    const [r] = await this.rows('SELECT value FROM cursors WHERE tenant = $1 AND job = $2 AND name = $3', [tenant, job, name]);
    return (r?.value as string | undefined) ?? null;
  }

  async setCursor(tenant: string, job: string, name: string, value: string, runId: string): Promise<void> {
    await this.rows(
      `INSERT INTO cursors (tenant, job, name, value, run_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (tenant, job, name) DO UPDATE SET value = EXCLUDED.value, run_id = EXCLUDED.run_id, updated_at = EXCLUDED.updated_at`,
      [tenant, job, name, value, runId, new Date().toISOString()],
    );
  }

  async openIncident(i: IncidentRecord): Promise<boolean> {
    const rows = await this.rows('INSERT INTO incidents (tenant, job, channel, opened_by, opened_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING job', [i.tenant, i.job, i.channel, i.openedBy, i.openedAt]);
    return rows.length === 1;
  }

  async closeIncident(tenant: string, job: string, channel: string): Promise<IncidentRecord | null> {
    const [r] = await this.rows('DELETE FROM incidents WHERE tenant = $1 AND job = $2 AND channel = $3 RETURNING *', [tenant, job, channel]);
    return r ? incidentFromDb(r) : null;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
