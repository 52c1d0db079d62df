import type { FireQuery, FireRecord } from './schedule-store.js';

/** Fire records as both SQL stores read and query them (the same columns in SQLite and PostgreSQL). */
export type Row = Record<string, unknown>;

export function fireFromRow(r: Row): FireRecord {
  return {
    job: r.job as string, slot: r.slot as string, status: r.status as FireRecord['status'], runId: (r.run_id as string | null) ?? null,
    firedAt: r.fired_at instanceof Date ? r.fired_at.toISOString() : (r.fired_at as string), origin: r.origin as string, reason: (r.reason as string | null) ?? null, resumes: Number(r.resumes),
  };
}

/** Builds the WHERE clause of a fire query with `?` or `$n` placeholders. */
export function fireWhere(q: FireQuery, placeholder: (n: number) => string): { sql: string; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (clause: (p: string) => string, value: unknown) => {
    args.push(value);
    where.push(clause(placeholder(args.length)));
  };
  if (q.job !== undefined) add((p) => `job = ${p}`, q.job);
  if (q.from !== undefined) add((p) => `slot >= ${p}`, q.from);
  if (q.to !== undefined) add((p) => `slot <= ${p}`, q.to);
  if (q.statuses?.length) where.push(`status IN (${q.statuses.map((s) => (args.push(s), placeholder(args.length))).join(', ')})`);
  const order = q.newestFirst ? 'DESC' : 'ASC';
  return { sql: `${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY slot ${order}, job ${order}${q.limit ? ` LIMIT ${Math.floor(q.limit)}` : ''}`, args };
}

