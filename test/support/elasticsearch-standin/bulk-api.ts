import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { EsHttpError, mergeDoc, type Cluster, type IndexState } from './cluster.js';

/** Faults a test asks for: whole _bulk requests or single documents refused with 429. */
export interface BulkFaults {
  /** The next N _bulk requests are answered 429 es_rejected_execution_exception. */
  rejectRequests: number;
  /** The next N documents are refused with a per-item 429. */
  rejectItems: number;
}

type ItemResult = Record<string, unknown> & { status: number };

const OPS = new Set(['index', 'create', 'update', 'delete']);
const REJECTED_EXECUTION = 'es_rejected_execution_exception';

function rejectedReason(bytes: number): string {
  return `rejected execution of coordinating operation [coordinating_and_primary_bytes=${bytes}, replica_bytes=0, all_bytes=${bytes}, coordinating_operation_bytes=${bytes}, max_coordinating_and_primary_bytes=${bytes}]`;
}

/**
 * POST [/{index}]/_bulk: NDJSON action/source pairs executed in order, each answered on its own line of
 * `items` with its status (and error), the way Elasticsearch answers: a bad document fails alone.
 * A malformed action line fails the whole request, as it does in Elasticsearch.
 */
export function executeBulk(cluster: Cluster, body: string, defaultIndex: string | null, faults: BulkFaults): { status: number; body: unknown; touched: Set<IndexState> } {
  const started = Date.now();
  if (faults.rejectRequests > 0) {
    faults.rejectRequests--;
    throw new EsHttpError(429, REJECTED_EXECUTION, rejectedReason(body.length));
  }
  const lines = body.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new EsHttpError(400, 'action_request_validation_exception', 'Validation Failed: 1: no requests added;');
  const items: Array<Record<string, ItemResult>> = [];
  const touched = new Set<IndexState>();
  let errors = false;
  for (let i = 0; i < lines.length; i++) {
    let action: Record<string, { _index?: string; _id?: string; retry_on_conflict?: number }>;
    try {
      action = JSON.parse(lines[i]!) as typeof action;
    } catch {
      throw new EsHttpError(400, 'x_content_parse_exception', `[1:1] Unexpected character in action line ${i + 1}`);
    }
    const op = Object.keys(action)[0];
    if (!op || !OPS.has(op)) throw new EsHttpError(400, 'illegal_argument_exception', `Malformed action/metadata line [${i + 1}], expected one of [create, delete, index, update] but found [${op}]`);
    const meta = action[op]!;
    const indexName = meta._index ?? defaultIndex;
    if (!indexName) throw new EsHttpError(400, 'action_request_validation_exception', 'Validation Failed: 1: index is missing;');
    let source: unknown = undefined;
    if (op !== 'delete') {
      const line = lines[++i];
      if (line === undefined) throw new EsHttpError(400, 'illegal_argument_exception', 'The bulk request must be terminated by a newline [\\n]');
      try {
        source = JSON.parse(line);
      } catch (err) {
        source = new Error((err as Error).message);
      }
    }
    const id = meta._id ?? (op === 'index' || op === 'create' ? randomBytes(15).toString('base64url') : undefined);
    const base = { _index: indexName, _id: id ?? null };
    let result: ItemResult;
    if (faults.rejectItems > 0) {
      faults.rejectItems--;
      result = { ...base, status: 429, error: { type: REJECTED_EXECUTION, reason: rejectedReason(lines[i]!.length) } };
    } else {
      try {
        const index = cluster.writeIndex(indexName);
        touched.add(index);
        result = { ...execute(cluster, index, op, id!, source), _index: index.name };
      } catch (err) {
        if (!(err instanceof EsHttpError)) throw err;
        result = { ...base, status: err.status, error: { type: err.type, reason: err.message, ...err.extra } };
      }
    }
    if (result.status >= 300) errors = true;
    items.push({ [op]: result });
  }
  return { status: 200, body: { errors, took: Date.now() - started, items }, touched };
}

function written(index: IndexState, id: string, status: number, result: string, version: number, seqNo: number): ItemResult {
  return { _index: index.name, _id: id, _version: version, result, _shards: { total: 1 + Number(index.settings.number_of_replicas ?? 0), successful: 1, failed: 0 }, _seq_no: seqNo, _primary_term: 1, status };
}

function execute(cluster: Cluster, index: IndexState, op: string, id: string, source: unknown): ItemResult {
  if (source instanceof Error) {
    return { _id: id, status: 400, error: { type: 'mapper_parsing_exception', reason: 'failed to parse', caused_by: { type: 'x_content_parse_exception', reason: source.message } } };
  }
  if (op === 'delete') {
    const doc = index.docs.get(id);
    if (!doc) return { ...written(index, id, 404, 'not_found', 1, index.seqNo++) };
    index.docs.delete(id);
    return written(index, id, 200, 'deleted', doc.version + 1, index.seqNo++);
  }
  if (op === 'update') {
    const body = source as { doc?: Record<string, unknown>; doc_as_upsert?: boolean; upsert?: Record<string, unknown> };
    const existing = index.docs.get(id);
    if (!existing) {
      const fresh = body.doc_as_upsert ? body.doc : body.upsert;
      if (!fresh) return { _id: id, status: 404, error: { type: 'document_missing_exception', reason: `[${id}]: document missing`, index: index.name, shard: '0' } };
      const r = cluster.indexDoc(index, id, fresh, 'create');
      return 'error' in r ? { _id: id, status: r.status, error: r.error } : written(index, id, 201, 'created', r.doc.version, r.doc.seqNo);
    }
    const merged = mergeDoc(existing.source, body.doc ?? {});
    // detect_noop: an update that changes nothing is not written.
    if (isDeepStrictEqual(merged, existing.source)) return written(index, id, 200, 'noop', existing.version, existing.seqNo);
    const r = cluster.indexDoc(index, id, merged, 'index');
    return 'error' in r ? { _id: id, status: r.status, error: r.error } : written(index, id, 200, 'updated', r.doc.version, r.doc.seqNo);
  }
  const r = cluster.indexDoc(index, id, source, op as 'index' | 'create');
  return 'error' in r ? { _id: id, status: r.status, error: r.error } : written(index, id, r.status, r.result, r.doc.version, r.doc.seqNo);
}
