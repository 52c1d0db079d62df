import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { partName } from '../../src/buffer/manifest.js';
import type { StageWriter } from '../../src/buffer/buffer.js';
import type { CursorRange, ExtractResult, Source } from '../../src/core/connector.js';
import { DatamillError, isTransient, SourceError } from '../../src/core/errors.js';
import type { StageContext } from '../../src/core/stage-context.js';
import { cursorName } from '../../src/runtime/incremental-cursor.js';
import { redact } from '../../src/spec/secrets.js';
import { connectPostgres, type ConnectOptions } from './client.js';
import { splitTable, type PostgresSourceConfig } from './config.js';

/** How the COPY output is written; adapt reads it back with the csv reader. */
const CSV_DIALECT = { delimiter: ',', quote: '"', escape: '"', header: true, encoding: 'utf8' };

/**
 * Extracts a query's (or a table's) rows with `COPY (…) TO STDOUT (FORMAT csv)`: the server formats the
 * rows and they stream into one buffer part with backpressure, so memory does not grow with the table.
 * Incremental: the upper bound of the range (max of the column) and the rows are read in one
 * REPEATABLE READ snapshot, so the range recorded is exactly the rows extracted.
 */
export function createPostgresSource(config: PostgresSourceConfig, options: ConnectOptions = {}): Source {
  return { extract: (ctx, out, range) => extract(config, options, ctx, out, range) };
}

async function extract(config: PostgresSourceConfig, options: ConnectOptions, ctx: StageContext, out: StageWriter, range: CursorRange | undefined): Promise<ExtractResult> {
  const started = Date.now();
  const { client, server } = await connectPostgres(ctx, config.connection, options, 'extract');
  const what = config.table !== undefined ? `table ${config.table}` : 'extract.query';
  const origin = `postgres ${server} ${config.table ?? 'query'}`;
  const onAbort = () => void client.end().catch(() => {});
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    // The text of values (cursor bounds, timestamps in the CSV) must not depend on server defaults.
    await client.query(`SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'`);
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const base = baseSelect(config, client);
    let select = base;
    let cursor: ExtractResult['cursor'];
    if (config.incremental) {
      const bounded = await boundedSelect(client, base, config.incremental, range);
      select = bounded.select;
      cursor = { name: cursorName({ from: 'postgres', incremental: config.incremental })!, from: bounded.from, to: bounded.to };
    }
    const part = out.part(partName(0, 'csv'), { origin });
    const copy = client.query(copyTo(`COPY (${select}) TO STDOUT WITH (FORMAT csv, HEADER true)`));
    for await (const chunk of copy) await part.write(chunk as Buffer);
    const rows = copy.rowCount;
    const info = await part.close(rows);
    await client.query('COMMIT');
    ctx.progress(rows);
    const ms = Date.now() - started;
    const figures: Record<string, number | string> = { ms };
    if (cursor) Object.assign(figures, { cursor_from: cursor.from ?? '(start)', cursor_to: cursor.to ?? '(none)' });
    ctx.log.info(`extracted ${rows} rows from ${what} on ${server} in ${ms} ms`, { server, rows, ...figures });
    return { format: 'csv', csv: { ...CSV_DIALECT }, parts: [info], figures, ...(cursor ? { cursor } : {}) };
  } catch (err) {
    if (ctx.signal.aborted) throw new SourceError(`extract from ${what} on ${server} was cancelled`, { details: { where: server } });
    throw sourceFailure(err, what, server, config);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    await client.end().catch(() => {});
  }
}

/** The user's query as a subquery (a trailing semicolon would end COPY's parenthesis), or the whole table. */
function baseSelect(config: PostgresSourceConfig, client: pg.Client): string {
  if (config.query !== undefined) return config.query.replace(/[\s;]+$/, '');
  const { schema, name } = splitTable(config.table!);
  const q = (id: string) => client.escapeIdentifier(id);
  return `SELECT * FROM ${schema === null ? '' : q(schema) + '.'}${q(name)}`;
}

/**
 * Rows above `from` and at most `to`. Without a fixed `to`, it is the column's maximum above `from` now;
 * with no such row it stays `from` and nothing is read. COPY takes no bind parameters, so the bounds are
 * quoted literals, which PostgreSQL casts to the column's type.
 */
async function boundedSelect(client: pg.Client, base: string, inc: NonNullable<PostgresSourceConfig['incremental']>, range: CursorRange | undefined): Promise<{ select: string; from: string | null; to: string | null }> {
  const col = client.escapeIdentifier(inc.column);
  const from = range?.from ?? (inc.start === undefined ? null : String(inc.start));
  const above = from === null ? 'TRUE' : `${col} > ${client.escapeLiteral(from)}`;
  let to = range?.to ?? null;
  if (to === null) {
    const r = await client.query<{ to: string | null }>(`SELECT max(${col})::text AS to FROM (${base}) AS q WHERE ${above}`);
    to = r.rows[0]?.to ?? from;
  }
  const below = to === null ? 'FALSE' : `${col} <= ${client.escapeLiteral(to)}`;
  return { select: `SELECT * FROM (${base}) AS q WHERE ${above} AND ${below}`, from, to };
}

/** A PostgreSQL error of the extract, naming the query or table, the server and, when it is the cause, the cursor column. */
function sourceFailure(err: unknown, what: string, server: string, config: PostgresSourceConfig): DatamillError {
  if (err instanceof DatamillError) return err;
  const e = (err ?? {}) as { code?: string; message?: string; hint?: string; position?: string };
  const code = typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
  const column = config.incremental?.column;
  let message = `extract from ${what} on ${server} failed: ${e.message ?? String(err)}`;
  if (code) message += ` (SQLSTATE ${code})`;
  if (e.hint) message += `; hint: ${e.hint}`;
  let where = config.table !== undefined ? 'extract.table' : 'extract.query';
  if (code === '42703' && column !== undefined && e.message?.includes(`"${column}"`)) {
    message += `; extract.incremental.column must be a column of the ${config.table !== undefined ? 'table' : "query's output"}`;
    where = 'extract.incremental.column';
  }
  // Syntax, missing relations and permissions (class 42) fail the same way on every attempt.
  return new SourceError(redact(message), { retryable: !code?.startsWith('42') && isTransient(err), cause: err, details: { where, sqlstate: code, expected: 'a query PostgreSQL can run' } });
}
