import pg from 'pg';
import { isTransient, LoadError, SourceError } from '../../src/core/errors.js';
import type { StageContext } from '../../src/core/stage-context.js';
import { scrubUrl } from '../../src/spec/secrets.js';

/** `host:port/database` of a connection URL: enough to find the server, nothing secret. */
export function serverOf(url: string): string {
  try {
    const u = new URL(url);
    const db = decodeURIComponent(u.pathname.replace(/^\//, '')) || '(default database)';
    return `${u.hostname || 'localhost'}:${u.port || '5432'}/${db}`;
  } catch {
    return '(unparsable connection URL)';
  }
}

/** Removes a URL's password (and the URL itself) from driver messages (kept here under its old name). */
export { scrubUrl as scrub };

/** pg reports connect timeouts as plain errors without a code; they are as transient as a refused connection. */
function isConnectTransient(err: unknown): boolean {
  if (isTransient(err)) return true;
  const e = err as { code?: unknown; message?: unknown } | null;
  return e?.code === undefined && typeof e?.message === 'string' && /timeout|terminated/i.test(e.message);
}

export interface ConnectOptions {
  /** Gives up connecting after this long (default 30 s). */
  connectTimeoutMs?: number;
}

/** The job section a connection serves: its errors name `<section>.connection` and are that stage's error class. */
export type ConnectionSection = 'load' | 'extract';

/**
 * Opens one connection for one load (or one extract). The URL is resolved from its `${env:…}` reference
 * only here, and errors name `host:port/database`, never the URL or its password.
 */
export async function connectPostgres(ctx: Pick<StageContext, 'secret'>, connection: string, options: ConnectOptions = {}, section: ConnectionSection = 'load'): Promise<{ client: pg.Client; server: string }> {
  const Failure = section === 'load' ? LoadError : SourceError;
  const where = `${section}.connection`;
  const url = ctx.secret(connection);
  if (!/^postgres(ql)?:\/\//i.test(url)) {
    throw new Failure(`${where} must be a postgres://user:password@host:port/database URL (after resolving its reference)`, { details: { where, expected: 'postgres://…' } });
  }
  const server = serverOf(url);
  let client: pg.Client;
  try {
    client = new pg.Client({ connectionString: url, application_name: 'datamill', connectionTimeoutMillis: options.connectTimeoutMs ?? 30_000 });
  } catch (err) {
    throw new Failure(`${where} is not a valid PostgreSQL URL: ${scrubUrl((err as Error).message, url)}`, { details: { where, expected: 'postgres://user:password@host:port/database' } });
  }
  // A socket error while idle would otherwise crash the process; the next query reports it properly.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const why = scrubUrl(e.message ?? String(err), url);
    throw new Failure(`cannot connect to PostgreSQL at ${server}: ${why}${e.code ? ` (${e.code})` : ''}`, {
      retryable: isConnectTransient(err),
      details: { where: server, expected: 'a reachable PostgreSQL server accepting these credentials' },
    });
  }
  return { client, server };
}
