import pg from 'pg';
import type { FireQuery, FireRecord, ScheduleStore } from './schedule-store.js';
import { fireFromRow, fireWhere } from './fire-rows.js';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS datamill_schedule_fires (
    job TEXT NOT NULL, slot TEXT NOT NULL, status TEXT NOT NULL, run_id TEXT, fired_at TEXT NOT NULL,
    origin TEXT NOT NULL, reason TEXT, resumes INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (job, slot));
  CREATE INDEX IF NOT EXISTS datamill_schedule_fires_by_status ON datamill_schedule_fires (status);
  CREATE TABLE IF NOT EXISTS datamill_schedule_paused (job TEXT PRIMARY KEY, paused_at TIMESTAMPTZ NOT NULL DEFAULT now());
  CREATE TABLE IF NOT EXISTS datamill_schedule_jobs (job TEXT PRIMARY KEY, first_seen TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS datamill_schedule_leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at TIMESTAMPTZ NOT NULL);`;

/** The scheduler's records in PostgreSQL, for several `serve` processes sharing one database. */
export class PostgresScheduleStore implements ScheduleStore {
  private constructor(private readonly pool: pg.Pool) {}

  static async open(url: string): Promise<PostgresScheduleStore> {
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    // A dropped idle connection is replaced by the pool; without a listener it would crash the server.
    pool.on('error', () => undefined);
    const client = await pool.connect();
    try {
      // Serialise first-time creation across servers starting together.
      await client.query('SELECT pg_advisory_lock(7265616)');
      await client.query(SCHEMA);
    } finally {
      await client.query('SELECT pg_advisory_unlock(7265616)').catch(() => undefined);
      client.release();
    }
    return new PostgresScheduleStore(pool);
  }

  async claimFires(fires: FireRecord[]): Promise<FireRecord[]> {
    if (fires.length === 0) return [];
    const col = <K extends keyof FireRecord>(k: K) => fires.map((f) => f[k]);
    const { rows } = await this.pool.query<{ job: string; slot: string }>(
      `INSERT INTO datamill_schedule_fires (job, slot, status, run_id, fired_at, origin, reason, resumes)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[])
       ON CONFLICT (job, slot) DO NOTHING RETURNING job, slot`,
      [col('job'), col('slot'), col('status'), col('runId'), col('firedAt'), col('origin'), col('reason'), col('resumes')],
    );
    const won = new Set(rows.map((r) => `${r.job}\u0000${r.slot}`));
    return fires.filter((f) => won.has(`${f.job}\u0000${f.slot}`));
  }

  async updateFire(job: string, slot: string, patch: Partial<Pick<FireRecord, 'status' | 'runId' | 'reason' | 'resumes'>>): Promise<void> {
    const cols: Record<string, string> = { status: 'status', runId: 'run_id', reason: 'reason', resumes: 'resumes' };
    const keys = Object.keys(patch).filter((k) => cols[k]);
    if (keys.length === 0) return;
    const args = keys.map((k) => (patch as Record<string, unknown>)[k] ?? null);
    await this.pool.query(`UPDATE datamill_schedule_fires SET ${keys.map((k, i) => `${cols[k]} = $${i + 1}`).join(', ')} WHERE job = $${keys.length + 1} AND slot = $${keys.length + 2}`, [...args, job, slot]);
  }

  async getFire(job: string, slot: string): Promise<FireRecord | null> {
    const { rows } = await this.pool.query('SELECT * FROM datamill_schedule_fires WHERE job = $1 AND slot = $2', [job, slot]);
    return rows[0] ? fireFromRow(rows[0] as Record<string, unknown>) : null;
  }

  async listFires(q: FireQuery = {}): Promise<FireRecord[]> {
    const { sql, args } = fireWhere(q, (n) => `$${n}`);
    const { rows } = await this.pool.query(`SELECT * FROM datamill_schedule_fires ${sql}`, args);
    return rows.map((r) => fireFromRow(r as Record<string, unknown>));
  }

  async registerJob(job: string, at: string): Promise<string> {
    await this.pool.query('INSERT INTO datamill_schedule_jobs (job, first_seen) VALUES ($1, $2) ON CONFLICT DO NOTHING', [job, at]);
    const { rows } = await this.pool.query<{ first_seen: string }>('SELECT first_seen FROM datamill_schedule_jobs WHERE job = $1', [job]);
    return rows[0]!.first_seen;
  }

  async setPaused(job: string, paused: boolean): Promise<void> {
    if (paused) await this.pool.query('INSERT INTO datamill_schedule_paused (job) VALUES ($1) ON CONFLICT DO NOTHING', [job]);
    else await this.pool.query('DELETE FROM datamill_schedule_paused WHERE job = $1', [job]);
  }

  async pausedJobs(): Promise<Set<string>> {
    const { rows } = await this.pool.query<{ job: string }>('SELECT job FROM datamill_schedule_paused');
    return new Set(rows.map((r) => r.job));
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    // The database's clock decides expiry, so servers whose clocks disagree still agree on the leader.
    const { rowCount } = await this.pool.query(
      `INSERT INTO datamill_schedule_leases (name, holder, expires_at) VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond')
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE datamill_schedule_leases.holder = excluded.holder OR datamill_schedule_leases.expires_at < clock_timestamp()`,
      [name, holder, ttlMs],
    );
    return rowCount === 1;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.pool.query('DELETE FROM datamill_schedule_leases WHERE name = $1 AND holder = $2', [name, holder]);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
