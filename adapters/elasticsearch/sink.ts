import type { LoadRejects, LoadResult, Sink, TypedInput } from '../../src/core/connector.js';
import { LoadError } from '../../src/core/errors.js';
import { faultPoint } from '../../src/core/faults.js';
import { fieldNames } from '../../src/core/schema.js';
import type { StageContext } from '../../src/core/stage-context.js';
import { BulkSender, type BulkFigures, type ItemResult } from './bulk.js';
import { connectElasticsearch, esFailure, type Connection } from './client.js';
import { bulkOptions, type ElasticsearchSinkConfig } from './config.js';
import { documentEncoder, documentOf, type BulkItem } from './documents.js';
import * as indices from './indices.js';
import { mappingsFor } from './mappings.js';

type Figures = Record<string, number | string>;

/**
 * Loads a run's rows into Elasticsearch with _bulk requests. Every document has an `_id` that is the
 * same in every attempt of the run (from `key`, or the run id and row number), so a retried or replayed
 * load overwrites what an earlier attempt wrote instead of adding copies. `mode: replace` loads a new
 * index named after the run and swaps the alias to it atomically: readers never see a partial load.
 */
export function createElasticsearchSink(config: ElasticsearchSinkConfig): Sink {
  return {
    load: (ctx, input, rejects) => load(config, ctx, input, rejects ?? loggedRejects(ctx)),
    async check(ctx) {
      const conn = connectElasticsearch(ctx, config);
      try {
        await conn.client.info();
      } catch (err) {
        throw esFailure(err, 'connecting', conn);
      } finally {
        await conn.client.close();
      }
    },
  };
}

async function load(config: ElasticsearchSinkConfig, ctx: StageContext, input: TypedInput, rejects: LoadRejects): Promise<LoadResult> {
  const columns = fieldNames(input.schema);
  const missing = (config.key ?? []).filter((k) => !columns.includes(k));
  if (missing.length > 0) {
    throw new LoadError(`load.key names ${missing.join(', ')}, which the input does not have; input columns are: ${columns.join(', ')}`, {
      details: { where: 'load.key', value: missing, expected: `columns among ${columns.join(', ')}` },
    });
  }
  const conn = connectElasticsearch(ctx, config);
  const started = Date.now();
  try {
    const result = config.mode === 'replace' ? await replaceLoad(conn, config, ctx, input, rejects) : await directLoad(conn, config, ctx, input, rejects);
    ctx.log.info(`loaded ${result.rowsLoaded} documents into ${result.target} (${config.mode}) in ${Date.now() - started} ms`, { target: result.target, server: conn.server, ...result.figures });
    return result;
  } catch (err) {
    if (ctx.signal.aborted) throw new LoadError(`load into ${config.index} was cancelled`, { details: { where: config.index } });
    throw esFailure(err, `loading ${config.index}`, conn);
  } finally {
    await conn.client.close().catch(() => {});
  }
}

/** append / upsert: documents go straight into the index (created from the input schema when missing). */
async function directLoad(conn: Connection, config: ElasticsearchSinkConfig, ctx: StageContext, input: TypedInput, rejects: LoadRejects): Promise<LoadResult> {
  const index = config.index;
  const state = await indices.nameState(conn, index);
  let created = false;
  if (!state.concrete && state.aliasOf.length === 0) {
    if (!config.create) {
      throw new LoadError(`index ${index} does not exist on ${conn.server}, and load.create is false`, { details: { where: 'load.index', value: index, expected: 'an existing index or alias, or create: true' } });
    }
    created = await indices.createIndex(conn, index, mappingsFor(input.schema, config.key, config.mappings), config.settings ?? {}, true);
  }
  const bulk = await sendRows(conn, index, config, ctx, input, rejects);
  if (config.refresh) await indices.refresh(conn, index);
  checkRejects(config, input, rejects, `the ${loaded(bulk)} documents accepted stay in ${index}; a retry overwrites them (same _id)`);
  return { rowsLoaded: loaded(bulk), target: index, figures: { mode: config.mode, ...(created ? { created_index: 'true' } : {}), ...bulkFigures(bulk, rejects) } };
}

/**
 * replace: a new index `<alias>-<run>` with refresh off and no replicas while it fills, its settings
 * restored after, then one _aliases call moves the alias, then the old indices are deleted. Anything
 * failing before the swap deletes the new index and leaves the alias as it was.
 */
async function replaceLoad(conn: Connection, config: ElasticsearchSinkConfig, ctx: StageContext, input: TypedInput, rejects: LoadRejects): Promise<LoadResult> {
  const alias = config.index;
  const index = runIndexName(alias, ctx.run);
  const before = await indices.nameState(conn, alias);
  if (before.aliasOf.length === 1 && before.aliasOf[0] === index) {
    const rowsLoaded = await indices.countDocuments(conn, index);
    ctx.log.info(`run ${ctx.run} was already loaded: ${alias} points at ${index} (${rowsLoaded} documents); nothing to do`, { target: alias, index });
    return { rowsLoaded, target: alias, alreadyLoaded: true, figures: { mode: 'replace', index } };
  }
  if (await indices.indexExists(conn, index)) {
    ctx.log.warn(`deleting ${index}, left by an earlier attempt of this run that did not finish`, { index });
    await indices.deleteIndex(conn, index);
  }
  const user = config.settings ?? {};
  const previous = before.aliasOf[0] ?? (before.concrete ? alias : undefined);
  const replicas = user.number_of_replicas ?? (previous ? (await indices.indexSettings(conn, previous)).number_of_replicas : undefined) ?? null;
  // Refresh is off and replicas are 0 only while loading: the settings afterwards are the job's, the old
  // index's replica count, or the cluster defaults (null resets a setting).
  const after = { refresh_interval: user.refresh_interval ?? null, number_of_replicas: replicas };
  await indices.createIndex(conn, index, mappingsFor(input.schema, config.key, config.mappings), { ...user, refresh_interval: '-1', number_of_replicas: 0 }, false);
  let bulk: BulkFigures;
  try {
    bulk = await sendRows(conn, index, config, ctx, input, rejects);
    checkRejects(config, input, rejects, `the new index ${index} was deleted; ${alias} is unchanged`);
    await indices.putSettings(conn, index, after);
    await indices.refresh(conn, index);
    faultPoint(ctx, 'before-alias-swap');
    await indices.swapAlias(conn, alias, before, index);
  } catch (err) {
    await indices.deleteIndex(conn, index).catch((e: unknown) => ctx.log.warn(`could not delete the unfinished index ${index}: ${(e as Error).message}`, { index }));
    throw err;
  }
  for (const old of before.aliasOf) {
    await indices.deleteIndex(conn, old).catch((e: unknown) => ctx.log.warn(`${alias} now points at ${index}, but the old index ${old} could not be deleted: ${(e as Error).message}`, { index: old }));
  }
  return { rowsLoaded: loaded(bulk), target: alias, figures: { mode: 'replace', index, ...(before.aliasOf.length > 0 ? { replaced: before.aliasOf.join(', ') } : {}), ...bulkFigures(bulk, rejects) } };
}

/** `<alias>-<run id>` in the characters index names allow (the run id is lowercase-safe already). */
export function runIndexName(alias: string, run: string): string {
  return `${alias}-${run.toLowerCase().replace(/[^a-z0-9_.-]/g, '-')}`;
}

/** Streams every input row through the bulk sender; rows without a stable `_id` and refused documents become rejects. */
async function sendRows(conn: Connection, index: string, config: ElasticsearchSinkConfig, ctx: StageContext, input: TypedInput, rejects: LoadRejects): Promise<BulkFigures> {
  const encode = documentEncoder(input.schema, { operation: config.mode === 'upsert' ? 'update' : 'index', ...(config.key ? { key: config.key } : {}), run: ctx.run });
  const onRejected = (item: BulkItem, r: ItemResult) => {
    const e = typeof r.error === 'string' ? { reason: r.error } : (r.error ?? {});
    return rejects.add({ row: item.row, _id: item.id, index: r._index ?? index, status: r.status, type: e.type ?? null, reason: conn.scrub(e.reason ?? `HTTP ${r.status}`), ...(e.caused_by ? { caused_by: e.caused_by } : {}), document: documentOf(item) });
  };
  const sender = new BulkSender(conn, index, bulkOptions(config), ctx, onRejected);
  let row = 0;
  for await (const batch of input.rows()) {
    for (const values of batch) {
      const doc = encode(values, ++row);
      if (doc.id !== null) await sender.add(doc);
      else {
        await rejects.add({ row: doc.row, field: doc.field, reason: doc.reason, document: JSON.parse(doc.source) as unknown });
        ctx.progress(1);
      }
    }
  }
  const figures = await sender.finish();
  if (row !== input.manifest.rows) {
    throw new LoadError(`the buffered input holds ${row} rows but its manifest says ${input.manifest.rows}: the buffer is damaged; re-run the transform stage`, { details: { value: row, expected: String(input.manifest.rows) } });
  }
  return figures;
}

function checkRejects(config: ElasticsearchSinkConfig, input: TypedInput, rejects: LoadRejects, consequence: string): void {
  const rows = input.manifest.rows;
  if (rejects.rows === 0 || rejects.rows / rows <= config.max_reject_ratio) return;
  const pct = ((100 * rejects.rows) / rows).toFixed(2);
  throw new LoadError(`${rejects.rows} of ${rows} documents refused (${pct}%), above load.max_reject_ratio ${config.max_reject_ratio}; ${consequence}; each refused document and its reason is in load/_rejects/`, {
    details: { where: 'load.max_reject_ratio', value: rejects.rows / rows, expected: `≤ ${config.max_reject_ratio}` },
  });
}

const loaded = (b: BulkFigures) => b.created + b.updated + b.noop;

function bulkFigures(b: BulkFigures, rejects: LoadRejects): Figures {
  return { created: b.created, updated: b.updated, ...(b.noop > 0 ? { unchanged: b.noop } : {}), rejected: rejects.rows, bulk_requests: b.requests, ...(b.throttled > 0 ? { throttled: b.throttled } : {}) };
}

/** Without a stage to keep rejects (the sink used as a library), they are counted and the first ones logged. */
function loggedRejects(ctx: StageContext): LoadRejects {
  let rows = 0;
  return {
    get rows() {
      return rows;
    },
    async add(reject) {
      if (++rows <= 10) ctx.log.warn(`document refused: ${reject.reason}`, { row: reject.row });
    },
  };
}
