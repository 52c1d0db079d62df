import type pg from 'pg';
import { isTransient } from '../../src/core/errors.js';
import type { StageContext } from '../../src/core/stage-context.js';
import { redact } from '../../src/spec/secrets.js';
import { connectPostgres } from '../postgres/client.js';
import { isTransientMessage, StatementFailure, type CopyRunner, type RedshiftSession, type SessionHooks, type ResultRow } from './session.js';

/**
 * Redshift over the PostgreSQL wire protocol (pg): one connection, BEGIN … COMMIT around the load's
 * statements. Cancelling closes the connection, which makes the server roll back.
 */
export async function pgWireSession(url: string, ctx: Pick<StageContext, 'secret' | 'signal'>, hooks: SessionHooks & { copy?: CopyRunner | undefined } = {}): Promise<RedshiftSession> {
  const { client, server } = await connectPostgres(ctx, url);
  const onAbort = () => void client.end().catch(() => {});
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const text = (v: unknown): string | null => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v));
  return {
    where: server,
    async query(sql) {
      try {
        const r = await client.query({ text: sql, rowMode: 'array' });
        return r.rows.map((row: unknown[]) => Object.fromEntries(r.fields.map((f, i) => [f.name, text(row[i])])) as ResultRow);
      } catch (err) {
        throw failure(err, -1, null);
      }
    },
    async transaction(statements) {
      let i = -1;
      try {
        await client.query('BEGIN');
        for (i = 0; i < statements.length; i++) {
          const s = statements[i]!;
          if (s.copy && hooks.copy) await hooks.copy(client, s.copy);
          else await client.query(s.sql);
        }
        i = statements.length;
        hooks.beforeCommit?.();
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw failure(err, i, statements[i] ?? null);
      }
    },
    async close() {
      ctx.signal.removeEventListener('abort', onAbort);
      await client.end().catch(() => {});
    },
  };
}

function failure(err: unknown, index: number, statement: Parameters<RedshiftSession['transaction']>[0][number] | null): StatementFailure {
  if (err instanceof StatementFailure) return err;
  const e = (err ?? {}) as pg.DatabaseError;
  const message = redact(e.message ?? String(err));
  const bits = [e.detail, e.where?.split('\n')[0]].filter((b): b is string => typeof b === 'string' && b.length > 0);
  const full = bits.length > 0 ? `${message}; ${bits.map(redact).join('; ')}` : message;
  const dataError = typeof e.code === 'string' && /^2[23]/.test(e.code);
  return new StatementFailure(full, index, statement, !dataError && (isTransient(err) || isTransientMessage(message)), e.code, { cause: err });
}
