import type { StageName } from '../buffer/manifest.js';
import type { IncidentRecord, RunRecord, StageAttemptRecord } from './store.js';

/** Record field → column, shared by the SQLite and PostgreSQL stores so both store exactly the same things. */
export const RUN_COLUMNS: Record<string, string> = { job: 'job', tenant: 'tenant', status: 'status', trigger: 'trigger', jobFile: 'job_file', buffer: 'buffer', params: 'params', createdAt: 'created_at', startedAt: 'started_at', finishedAt: 'finished_at', error: 'error', figures: 'figures', runner: 'runner', slot: 'slot' };
export const ATTEMPT_COLUMNS: Record<string, string> = { status: 'status', executor: 'executor', taskId: 'task_id', startedAt: 'started_at', finishedAt: 'finished_at', exitCode: 'exit_code', signal: 'signal', error: 'error', rowsIn: 'rows_in', rowsOut: 'rows_out', rowsRejected: 'rows_rejected', bytesOut: 'bytes_out', durationMs: 'duration_ms', peakRssBytes: 'peak_rss_bytes', cpuSeconds: 'cpu_seconds' };
export const ATTEMPT_KEY_COLUMNS: Record<string, string> = { runId: 'run_id', stage: 'stage', attempt: 'attempt' };
const JSON_FIELDS = new Set(['params', 'error', 'figures']);

/** Tables whose DDL is the same in SQLite and PostgreSQL. */
export const CURSORS_TABLE = `CREATE TABLE cursors (
     tenant TEXT NOT NULL, job TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, run_id TEXT NOT NULL,
     updated_at TEXT NOT NULL, PRIMARY KEY (tenant, job, name));`;
export const INCIDENTS_TABLE = `CREATE TABLE incidents (
     tenant TEXT NOT NULL, job TEXT NOT NULL, channel TEXT NOT NULL, opened_by TEXT NOT NULL, opened_at TEXT NOT NULL,
     PRIMARY KEY (tenant, job, channel));`;

/** Stage order for listing attempts started in the same millisecond. */
export const STAGE_ORDER_SQL = "CASE stage WHEN 'extract' THEN 0 WHEN 'adapt' THEN 1 WHEN 'transform' THEN 2 ELSE 3 END";

export function toDb(key: string, value: unknown): unknown {
  if (JSON_FIELDS.has(key)) return value === null || value === undefined ? null : JSON.stringify(value);
  return value === undefined ? null : value;
}

export type DbRow = Record<string, unknown>;

/** SQLite hands back JSON as text and PostgreSQL's json columns as parsed values; both arrive here. */
function json<T>(v: unknown): T {
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}

/** PostgreSQL returns BIGINT as a string (it may exceed 2^53); our counts never do. */
function num(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

const text = (v: unknown) => (v as string | null | undefined) ?? null;

export function runFromDb(r: DbRow): RunRecord {
  return {
    id: r.id as string, job: r.job as string, tenant: r.tenant as string, status: r.status as RunRecord['status'], trigger: r.trigger as string,
    jobFile: r.job_file as string, buffer: r.buffer as string, params: json<Record<string, string>>(r.params),
    createdAt: r.created_at as string, startedAt: text(r.started_at), finishedAt: text(r.finished_at),
    error: r.error ? json<RunRecord['error']>(r.error) : null, figures: json<RunRecord['figures']>(r.figures),
    runner: text(r.runner), slot: text(r.slot),
  };
}

export function attemptFromDb(r: DbRow): StageAttemptRecord {
  return {
    runId: r.run_id as string, stage: r.stage as StageName, attempt: Number(r.attempt), status: r.status as StageAttemptRecord['status'],
    executor: r.executor as string, taskId: text(r.task_id), startedAt: r.started_at as string, finishedAt: text(r.finished_at),
    exitCode: num(r.exit_code), signal: text(r.signal), error: r.error ? json<StageAttemptRecord['error']>(r.error) : null,
    rowsIn: num(r.rows_in), rowsOut: num(r.rows_out), rowsRejected: num(r.rows_rejected),
    bytesOut: num(r.bytes_out), durationMs: num(r.duration_ms), peakRssBytes: num(r.peak_rss_bytes),
    cpuSeconds: num(r.cpu_seconds),
  };
}

export function incidentFromDb(r: DbRow): IncidentRecord {
  return { tenant: r.tenant as string, job: r.job as string, channel: r.channel as string, openedBy: r.opened_by as string, openedAt: r.opened_at as string };
}

/** The message for a run-id prefix several runs share (git-style short ids). */
export function ambiguousPrefix(prefix: string, ids: string[]): string {
  return `'${prefix}' matches several runs (${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}); give more of the id`;
}

export const likePrefix = (prefix: string) => prefix.replace(/[\\%_]/g, (c) => '\\' + c) + '%';
