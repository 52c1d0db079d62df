import { randomBytes } from 'node:crypto';
import type { LoadResult, Sink, TypedInput } from '../../src/core/connector.js';
import { DatamillError, LoadError } from '../../src/core/errors.js';
import { faultPoint } from '../../src/core/faults.js';
import { fieldNames, type Schema } from '../../src/core/schema.js';
import type { StageContext } from '../../src/core/stage-context.js';
import { redact } from '../../src/spec/secrets.js';
import { parseDuration } from '../../src/spec/units.js';
import { checkKeyColumns, splitTable } from '../postgres/config.js';
import type { RedshiftSinkConfig } from './config.js';
import { copyManifest, fileCount, stageCsvParts } from './csv-parts.js';
import { copyFailure, copyRejects, readCopyErrors } from './load-errors.js';
import { StatementFailure, type CopyRunner, type RedshiftSession } from './session.js';
import * as sql from './sql.js';
import { createStagingStore, type StagingStore } from './staging.js';

export interface RedshiftSinkOptions {
  /** Opens the session instead of the config's url / data_api (tests hand in their own). */
  session?: (ctx: StageContext) => Promise<RedshiftSession>;
  /** Wire protocol only: performs the COPY step another way (PostgreSQL has no COPY FROM S3). */
  copy?: CopyRunner;
}

/**
 * Loads a run's rows into one Redshift table exactly once: CSV.gz parts sized for the slices are staged
 * in S3 with a COPY manifest, then ONE transaction COPYs them into a temp table, applies the mode and
 * records (table, run) in the ledger `datamill.loads`. Every step of that transaction is a no-op when the
 * ledger already has the run, so a retry, a replay, or a batch that committed after its stage died
 * never loads twice.
 */
export function createRedshiftSink(config: RedshiftSinkConfig, options: RedshiftSinkOptions = {}): Sink {
  return {
    load: (ctx, input) => load(config, options, ctx, input),
    async check(ctx) {
      const session = await openSession(config, options, ctx);
      try {
        await session.query('SELECT 1');
      } finally {
        await session.close();
      }
    },
  };
}

/** Each mode's driver is imported only when used: the AWS SDK and pg both take a while to load. */
async function openSession(config: RedshiftSinkConfig, options: RedshiftSinkOptions, ctx: StageContext): Promise<RedshiftSession> {
  if (options.session) return options.session(ctx);
  const beforeCommit = () => faultPoint(ctx, 'before-commit');
  if (config.data_api) {
    const { dataApiSession } = await import('./data-api.js');
    return dataApiSession(config.data_api, ctx, parseDuration(config.statement_timeout) ?? 1_800_000, { beforeCommit });
  }
  const { pgWireSession } = await import('./pg-wire.js');
  return pgWireSession(config.url!, ctx, { copy: options.copy, beforeCommit });
}

async function load(config: RedshiftSinkConfig, options: RedshiftSinkOptions, ctx: StageContext, input: TypedInput): Promise<LoadResult> {
  const started = Date.now();
  const columns = fieldNames(input.schema);
  checkKeyColumns(config.key, columns);
  const session = await openSession(config, options, ctx);
  let store: StagingStore | null = null;
  try {
    const t = await resolveTarget(session, config);
    const earlier = await ledgerEntry(session, t, ctx.run);
    if (earlier) {
      ctx.log.info(`run ${ctx.run} was already loaded into ${t.display} (${earlier.rows} rows): nothing to do`, { target: t.display, where: session.where, rows: earlier.rows, mode: config.mode });
      return { rowsLoaded: earlier.rows, target: t.display, alreadyLoaded: true, figures: { mode: config.mode } };
    }
    const createSql = await prepareTarget(session, t, input.schema, config);
    const slices = config.slices ?? (await askSlices(session, ctx));
    const loadId = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    store = createStagingStore(config, ctx, `${ctx.tenant}/${ctx.job}/${ctx.run}/${loadId}`);
    const upsert = config.mode === 'upsert';
    const files = await stageCsvParts(
      input,
      { files: fileCount(slices, input.manifest.bytes, input.manifest.rows), ordinal: upsert, notNull: upsert ? config.key!.map((k) => columns.indexOf(k)) : [], put: (name, body) => store!.put(name, body) },
      ctx,
    );
    const manifestUrl = store.url('manifest.json');
    if (files.length > 0) await store.put('manifest.json', copyManifest(files, store.url));
    const statements = sql.loadBatch({
      t, columns, mode: config.mode, key: config.key, upsertWith: config.upsert_with, run: ctx.run, loadId, rows: input.manifest.rows, createSql,
      copy: files.length > 0 ? { manifestUrl, iamRole: config.iam_role, region: config.s3?.region, maxErrors: config.max_errors } : null,
      now: new Date().toISOString().slice(0, 19).replace('T', ' '),
    });
    try {
      await session.transaction(statements);
    } catch (err) {
      throw await transactionFailure(err, session, store, t.display, ctx);
    }
    const entry = await ledgerEntry(session, t, ctx.run);
    const raced = entry !== null && entry.loadId !== loadId;
    const rejected = config.max_errors > 0 && files.length > 0 && !raced ? await readCopyErrors(session, store.prefix, ctx.log) : [];
    if (!config.keep_staged) await store.removeAll().catch((err: unknown) => ctx.log.warn(`could not remove the staged files under ${store!.prefix}: ${redact((err as Error).message)}`));
    const rowsLoaded = raced ? entry.rows : input.manifest.rows - rejected.length;
    const figures = { mode: config.mode, files: files.length, slices, staged_bytes: files.reduce((a, f) => a + f.bytes, 0), ...(rejected.length > 0 ? { rows_rejected: rejected.length } : {}) };
    if (rejected.length > 0) ctx.log.warn(`${rejected.length} rows rejected by COPY (within load.max_errors ${config.max_errors})`, { rows_rejected: rejected.length });
    ctx.log.info(`loaded ${rowsLoaded} rows into ${t.display} (${config.mode}) on ${session.where} in ${Date.now() - started} ms`, { target: t.display, where: session.where, rows: rowsLoaded, created: createSql !== null, ...figures });
    return { rowsLoaded, target: t.display, ...(raced ? { alreadyLoaded: true } : {}), figures, ...(rejected.length > 0 ? { rejects: copyRejects(rejected) } : {}) };
  } catch (err) {
    if (ctx.signal.aborted && !(err instanceof DatamillError)) throw new LoadError(`load into ${config.table} was cancelled; nothing was committed`, { details: { where: config.table } });
    throw err instanceof DatamillError ? err : asLoadError(err, config.table, session.where);
  } finally {
    await session.close();
  }
}

async function transactionFailure(err: unknown, session: RedshiftSession, store: StagingStore, target: string, ctx: StageContext): Promise<Error> {
  if (!(err instanceof StatementFailure)) return err as Error;
  if (err.statement?.copy) return copyFailure(err.message, target, session.where, await readCopyErrors(session, store.prefix, ctx.log));
  const what = err.statement ? `statement ${err.index + 1} (${err.statement.sql.split(' ').slice(0, 4).join(' ')} …)` : 'the transaction';
  return new LoadError(redact(`load into ${target} failed on ${session.where} at ${what}: ${err.message}; nothing was committed`), {
    retryable: err.retryable,
    details: { where: target, sqlstate: err.code },
    cause: err,
  });
}

function asLoadError(err: unknown, target: string, where: string): LoadError {
  const f = err instanceof StatementFailure ? err : null;
  return new LoadError(redact(`load into ${target} failed on ${where}: ${(err as Error)?.message ?? String(err)}`), { retryable: f?.retryable ?? false, details: { where: target, sqlstate: f?.code }, cause: err });
}

async function resolveTarget(session: RedshiftSession, config: RedshiftSinkConfig): Promise<sql.Target> {
  const { schema, name } = splitTable(config.table);
  if (schema !== null) return sql.target(schema, name, sql.quoteIdent);
  const r = await session.query('SELECT current_schema() AS s');
  return sql.target(r[0]?.s ?? 'public', name, sql.quoteIdent);
}

/** Creates the ledger on first use (its own statements, committed; an empty ledger harms nothing). */
async function ledgerEntry(session: RedshiftSession, t: sql.Target, run: string): Promise<{ rows: number; loadId: string } | null> {
  const exists = await session.query(`SELECT 1 AS ok FROM information_schema.tables WHERE table_schema = 'datamill' AND table_name = 'loads'`);
  if (exists.length === 0) for (const s of sql.CREATE_LEDGER) await session.query(s);
  const r = await session.query(sql.ledgerLookupSql(t, run));
  return r[0] ? { rows: Number(r[0].rows), loadId: r[0].load_id ?? '' } : null;
}

/**
 * Checks an existing target has every input column; for a missing one returns the CREATE TABLE that the
 * load's transaction starts with (so a failed first load leaves no table). Its schema is created now.
 */
async function prepareTarget(session: RedshiftSession, t: sql.Target, schema: Schema, config: RedshiftSinkConfig): Promise<string | null> {
  const have = new Set((await session.query(sql.columnsSql(t))).map((r) => r.column_name));
  if (have.size === 0) {
    if (!config.create) {
      throw new LoadError(`table ${t.display} does not exist, and load.create is false`, { details: { where: t.display, expected: 'an existing table, or create: true to create it from the input schema' } });
    }
    const names = new Set(fieldNames(schema));
    for (const [option, cols] of [['distkey', config.distkey ? [config.distkey] : []], ['sortkey', config.sortkey ?? []], ['encode', typeof config.encode === 'object' ? Object.keys(config.encode) : []]] as const) {
      const unknown = cols.filter((c) => !names.has(c));
      if (unknown.length > 0) throw new LoadError(`load.${option} names ${unknown.join(', ')}, which the input does not have; input columns are: ${[...names].join(', ')}`, { details: { where: `load.${option}`, value: unknown, expected: `columns among ${[...names].join(', ')}` } });
    }
    await session.query(`CREATE SCHEMA IF NOT EXISTS ${sql.quoteIdent(t.schema)}`);
    return sql.createTableSql(t, schema, config);
  }
  const missing = schema.filter((f) => !have.has(f.name));
  if (missing.length > 0) {
    const add = missing.map((f) => `ALTER TABLE ${t.sql} ADD COLUMN ${sql.quoteIdent(f.name)} ${sql.REDSHIFT_TYPES[f.type]}`).join('; ');
    throw new LoadError(`table ${t.display} has no column ${missing.map((f) => f.name).join(', ')} (the input has ${missing.length === 1 ? 'it' : 'them'}); add with ${add}, or drop ${missing.length === 1 ? 'it' : 'them'} in transform`, {
      details: { where: t.display, value: missing.map((f) => f.name), expected: `columns ${[...have].join(', ')}` },
    });
  }
  return null;
}

/** STV_SLICES lists the cluster's slices; a user who may not read it (or a PostgreSQL) gets one file per load step. */
async function askSlices(session: RedshiftSession, ctx: StageContext): Promise<number> {
  try {
    const r = await session.query('SELECT COUNT(*) AS n FROM stv_slices');
    const n = Number(r[0]?.n ?? 0);
    if (n > 0) return n;
  } catch {
    /* fall through */
  }
  ctx.log.warn(`could not count the slices of ${session.where} (STV_SLICES); staging as for 1 slice — set load.slices`);
  return 1;
}
