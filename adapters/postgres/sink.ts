import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { LoadResult, Sink, TypedInput } from '../../src/core/connector.js';
import { LoadError } from '../../src/core/errors.js';
import { faultPoint } from '../../src/core/faults.js';
import { fieldNames, type Schema } from '../../src/core/schema.js';
import type { StageContext } from '../../src/core/stage-context.js';
import { connectPostgres, type ConnectOptions } from './client.js';
import { checkKeyColumns, splitTable, type PostgresSinkConfig } from './config.js';
import { loadFailure } from './failure.js';
import * as sql from './sql.js';

type Figures = Record<string, number | string>;

/**
 * Loads a run's rows into one PostgreSQL table exactly once. Everything happens in ONE transaction that
 * also inserts (target, run) into the ledger `datamill.loads`: either the rows and the ledger entry are
 * both committed or neither is. A retried or replayed load of the same run finds its ledger entry and
 * does nothing; a load killed at any point before COMMIT leaves nothing behind.
 */
export function createPostgresSink(config: PostgresSinkConfig, options: ConnectOptions = {}): Sink {
  return {
    load: (ctx, input) => load(config, options, ctx, input),
    async check(ctx) {
      const { client, server } = await connectPostgres(ctx, config.connection, options);
      try {
        await client.query('SELECT 1');
      } catch (err) {
        throw loadFailure(err, server, []);
      } finally {
        await client.end().catch(() => {});
      }
    },
  };
}

async function load(config: PostgresSinkConfig, options: ConnectOptions, ctx: StageContext, input: TypedInput): Promise<LoadResult> {
  const started = Date.now();
  const columns = fieldNames(input.schema);
  checkKeyColumns(config.key, columns);
  const { client, server } = await connectPostgres(ctx, config.connection, options);
  const q = (id: string) => client.escapeIdentifier(id);
  let display = config.table;
  // COPY stops cleanly through the pipeline's signal (CopyFail); any other statement is stopped by closing
  // the connection, which makes the server roll the transaction back.
  let inCopy = false;
  const onAbort = () => {
    if (!inCopy) client.end().catch(() => {});
  };
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    ctx.signal.throwIfAborted();
    const t = await resolveTarget(client, config, q);
    display = t.display;
    await ensureSchemas(client, t, config, q);

    await client.query('BEGIN');
    // Two loads into one table (two runs, or a retry racing a slow attempt) take turns; the second one
    // then sees the first one's ledger entry.
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [t.display]);
    // The ledger query is also this transaction's first lock on a table, which makes PostgreSQL apply the
    // catalog changes of whoever held the lock before (a table it created is then seen as existing).
    const earlier = await client.query<{ rows: string }>(`SELECT rows FROM ${sql.LEDGER_TABLE} WHERE target = $1 AND run_id = $2`, [t.display, ctx.run]);
    if (earlier.rows[0]) {
      await client.query('COMMIT');
      const rowsLoaded = Number(earlier.rows[0].rows);
      ctx.log.info(`run ${ctx.run} was already loaded into ${t.display} (${rowsLoaded} rows): nothing to do`, { target: t.display, server, rows: rowsLoaded, mode: config.mode });
      return { rowsLoaded, target: t.display, alreadyLoaded: true, figures: { mode: config.mode } };
    }

    const created = await prepareTarget(client, t, input.schema, config, q);
    const copy = async (tableSql: string) => {
      inCopy = true;
      try {
        return await copyParts(client, sql.copySql(tableSql, columns, q), input, ctx);
      } finally {
        inCopy = false;
      }
    };
    const { rowsLoaded, figures } = await write(client, t, config, columns, input, copy, q);

    await client.query(`INSERT INTO ${sql.LEDGER_TABLE} (target, run_id, rows) VALUES ($1, $2, $3)`, [t.display, ctx.run, rowsLoaded]);
    faultPoint(ctx, 'before-commit');
    await client.query('COMMIT');

    const ms = Date.now() - started;
    ctx.log.info(`loaded ${rowsLoaded} rows into ${t.display} (${config.mode}) in ${ms} ms`, { target: t.display, server, mode: config.mode, rows: rowsLoaded, created, ms, ...figures });
    return { rowsLoaded, target: t.display, figures: { mode: config.mode, ...figures } };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    if (ctx.signal.aborted) {
      throw new LoadError(`load into ${display} was cancelled; nothing was committed`, { details: { where: display } });
    }
    throw loadFailure(err, display, input.manifest.parts);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    await client.end().catch(() => {});
  }
}

/** Runs the mode's statements; every one of them is inside the caller's transaction. */
async function write(
  client: pg.Client,
  t: sql.Target,
  config: PostgresSinkConfig,
  columns: string[],
  input: TypedInput,
  copy: (tableSql: string) => Promise<number>,
  q: sql.Quote,
): Promise<{ rowsLoaded: number; figures: Figures }> {
  if (config.mode === 'append') {
    // COPY is transactional: its rows stay invisible until COMMIT and vanish on ROLLBACK, so copying
    // straight into the target is as safe as a staging table and writes the data once instead of twice.
    const n = await copy(t.sql);
    return { rowsLoaded: n, figures: { inserted: n } };
  }
  if (config.mode === 'replace') {
    for (const s of sql.createStagingSql(t, columns, q, false)) await client.query(s);
    const n = await copy(q(sql.STAGING));
    // TRUNCATE takes the exclusive lock, so readers wait only for this last step, not for the COPY.
    for (const s of sql.replaceSql(t, columns, q)) await client.query(s);
    return { rowsLoaded: n, figures: { inserted: n } };
  }
  const key = config.key!;
  for (const s of sql.createStagingSql(t, columns, q, true)) await client.query(s);
  const copied = await copy(q(sql.STAGING));
  const nulls = await client.query<{ n: string }>(sql.nullKeysSql(key, q));
  const nullRows = Number(nulls.rows[0]?.n ?? 0);
  if (nullRows > 0) {
    throw new LoadError(`upsert into ${t.display}: ${nullRows} of ${copied} input rows have a null in the key (${key.join(', ')}); a null key matches nothing, so such rows would be added again by every load`, {
      details: { where: t.display, value: nullRows, expected: `non-null values in ${key.join(', ')}` },
    });
  }
  const unique = await client.query(sql.UNIQUE_ON_KEY_SQL, [t.schema, t.name, key]);
  if ((unique.rowCount ?? 0) > 0) {
    const r = await client.query<{ inserted: string; updated: string }>(sql.upsertOnConflictSql(t, columns, key, q));
    const inserted = Number(r.rows[0]?.inserted ?? 0);
    const updated = Number(r.rows[0]?.updated ?? 0);
    return { rowsLoaded: inserted + updated, figures: { inserted, updated, input: copied, strategy: 'on-conflict' } };
  }
  const [latest, del, ins] = sql.upsertDeleteInsertSql(t, columns, key, q);
  await client.query(latest!);
  const deleted = await client.query<{ deleted: string; updated: string }>(
    `WITH d AS (${del} RETURNING ${sql.columnList(key, q, 's.')}) SELECT count(*)::bigint AS deleted, count(DISTINCT (${sql.columnList(key, q, 'd.')}))::bigint AS updated FROM d`,
  );
  const written = (await client.query(ins!)).rowCount ?? 0;
  const updated = Number(deleted.rows[0]?.updated ?? 0);
  return { rowsLoaded: written, figures: { inserted: written - updated, updated, deleted: Number(deleted.rows[0]?.deleted ?? 0), input: copied, strategy: 'delete-insert' } };
}

/** Streams every part, already in COPY text format, into one COPY: no row is parsed or re-encoded here. */
async function copyParts(client: pg.Client, copySql: string, input: TypedInput, ctx: StageContext): Promise<number> {
  const stream = client.query(copyFrom(copySql));
  async function* chunks(): AsyncGenerator<Buffer | string> {
    for await (const { part, stream: bytes } of input.parts()) {
      for await (const chunk of bytes) yield chunk as Buffer | string;
      ctx.progress(part.rows);
    }
  }
  await pipeline(chunks, stream, { signal: ctx.signal });
  const expected = input.manifest.rows;
  if (stream.rowCount !== expected) {
    throw new LoadError(`the buffered input holds ${stream.rowCount} rows but its manifest says ${expected}: the buffer is damaged; re-run the transform stage`, {
      details: { value: stream.rowCount, expected: String(expected) },
    });
  }
  return stream.rowCount;
}

async function resolveTarget(client: pg.Client, config: PostgresSinkConfig, q: sql.Quote): Promise<sql.Target> {
  const { schema, name } = splitTable(config.table);
  if (schema !== null) return sql.target(schema, name, q);
  const r = await client.query<{ s: string | null }>('SELECT current_schema() AS s');
  return sql.target(r.rows[0]?.s ?? 'public', name, q);
}

/**
 * Creates the ledger and the target's schema when missing, each statement committing on its own under a
 * session lock. Not inside the load's transaction: a transaction that waited on the lock would still see
 * the schema as missing in its catalog caches and fail with a duplicate key, and an empty schema left by
 * a failed load harms nothing.
 */
async function ensureSchemas(client: pg.Client, t: sql.Target, config: PostgresSinkConfig, q: sql.Quote): Promise<void> {
  const r = await client.query<{ ledger: boolean; schema: boolean }>(
    `SELECT to_regclass('${sql.LEDGER_TABLE}') IS NOT NULL AS ledger, EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS schema`,
    [t.schema],
  );
  const ledger = r.rows[0]?.ledger === true;
  const schema = r.rows[0]?.schema === true || !config.create;
  if (ledger && schema) return;
  await client.query(`SELECT pg_advisory_lock(${sql.DDL_LOCK})`);
  try {
    if (!ledger) for (const s of sql.CREATE_LEDGER) await client.query(s);
    if (!schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${q(t.schema)}`);
  } finally {
    await client.query(`SELECT pg_advisory_unlock(${sql.DDL_LOCK})`);
  }
}

/** Creates the target when missing (and allowed), then makes sure it has every input column. Returns whether it created it. */
async function prepareTarget(client: pg.Client, t: sql.Target, schema: Schema, config: PostgresSinkConfig, q: sql.Quote): Promise<boolean> {
  const exists = await client.query<{ ok: boolean }>(`SELECT to_regclass(format('%I.%I', $1::text, $2::text)) IS NOT NULL AS ok`, [t.schema, t.name]);
  if (!exists.rows[0]?.ok) {
    if (!config.create) {
      throw new LoadError(`table ${t.display} does not exist, and load.create is false`, {
        details: { where: t.display, expected: 'an existing table, or create: true to create it from the input schema' },
      });
    }
    await client.query(sql.createTableSql(t, schema, config.key, q));
    return true;
  }
  const cols = await client.query<{ column_name: string }>('SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2', [t.schema, t.name]);
  const have = new Set(cols.rows.map((r) => r.column_name));
  const missing = schema.filter((f) => !have.has(f.name));
  if (missing.length > 0) {
    const add = missing.map((f) => `ADD COLUMN ${q(f.name)} ${sql.PG_TYPES[f.type]}`).join(', ');
    throw new LoadError(`table ${t.display} has no column ${missing.map((f) => f.name).join(', ')} (the input has ${missing.length === 1 ? 'it' : 'them'}); add ${missing.length === 1 ? 'it' : 'them'} with ALTER TABLE ${t.sql} ${add}, or drop ${missing.length === 1 ? 'it' : 'them'} in transform`, {
      details: { where: t.display, value: missing.map((f) => f.name), expected: `columns ${[...have].join(', ')}` },
    });
  }
  return false;
}
