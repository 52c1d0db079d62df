import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { executeBulk, type BulkFaults } from './bulk-api.js';
import { Cluster, EsHttpError, type IndexState, type StoredDoc } from './cluster.js';

/**
 * A stand-in for an Elasticsearch 8 node, for tests and benchmarks on machines where no real one can
 * run. It speaks the REST contracts the official client uses, with Elasticsearch's JSON: the product
 * header, _bulk with per-item results and errors, 429s on demand, index creation with mappings that are
 * enforced, settings, _aliases, refresh (documents become searchable only when refreshed), _count,
 * a minimal _search, GET _doc, and basic / API-key authentication. It is NOT Elasticsearch: no
 * analysis, scoring, shards or replication.
 */
export interface StandinOptions {
  /** Require these credentials (401 security_exception otherwise). */
  auth?: { apiKey?: string; username?: string; password?: string };
  /** false: answer without `x-elastic-product`, like a server that is not Elasticsearch. */
  productHeader?: boolean;
}

export interface BulkRecord {
  index: string;
  documents: number;
  status: number;
  /** The target index's refresh_interval and number_of_replicas when the request arrived. */
  refreshInterval: string | undefined;
  replicas: string | undefined;
}

export interface Standin {
  url: string;
  cluster: Cluster;
  faults: BulkFaults;
  /** Every _bulk request received, in order. */
  bulks: BulkRecord[];
  /** Every request received: `METHOD /path`. */
  requests: string[];
  /** The documents of an index or alias as GET _doc sees them (real time), by _id. */
  documents(name: string): Map<string, Record<string, unknown>>;
  close(): Promise<void>;
}

const INFO = {
  name: 'standin',
  cluster_name: 'datamill-standin',
  cluster_uuid: 'c2FuZGJveC1jbHVzdGVy',
  version: { number: '8.19.2', build_flavor: 'default', build_type: 'tar', lucene_version: '9.12.2', minimum_wire_compatibility_version: '7.17.0', minimum_index_compatibility_version: '7.0.0' },
  tagline: 'You Know, for Search',
};

function authorized(req: IncomingMessage, auth: StandinOptions['auth']): boolean {
  if (!auth) return true;
  const header = req.headers.authorization ?? '';
  if (auth.apiKey !== undefined && header === `ApiKey ${auth.apiKey}`) return true;
  if (auth.username !== undefined && header === `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}`) return true;
  return false;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  return (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
}

function parseJson(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new EsHttpError(400, 'x_content_parse_exception', `[1:1] ${(err as Error).message}`);
  }
}

/** `match_all`, `term`/`match` on one field and `ids`: enough to check what a load wrote. */
function matches(query: Record<string, unknown> | undefined, id: string, doc: StoredDoc): boolean {
  if (!query || 'match_all' in query) return true;
  const [kind, spec] = Object.entries(query)[0] as [string, Record<string, unknown>];
  if (kind === 'ids') return ((spec.values as string[]) ?? []).includes(id);
  if (kind === 'term' || kind === 'match') {
    const [field, want] = Object.entries(spec)[0]!;
    const value = typeof want === 'object' && want !== null ? (want as { value?: unknown; query?: unknown }).value ?? (want as { query?: unknown }).query : want;
    const have = field.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], doc.source);
    return Array.isArray(have) ? have.includes(value) : have === value || String(have) === String(value);
  }
  throw new EsHttpError(400, 'parsing_exception', `unknown query [${kind}] (the stand-in knows match_all, term, match, ids)`);
}

/**
 * `?filter_path=a.*.b,c`: keeps only the named parts of an answer (`*` matches any key; arrays are
 * looked through), as every Elasticsearch API does.
 */
export function filterPath(value: unknown, patterns: string[][]): unknown {
  if (patterns.some((p) => p.length === 0)) return value;
  if (Array.isArray(value)) return value.map((v) => filterPath(v, patterns)).filter((v) => v !== undefined);
  if (typeof value !== 'object' || value === null) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const sub = patterns.filter((p) => p[0] === '*' || p[0] === k).map((p) => p.slice(1));
    if (sub.length === 0) continue;
    const kept = filterPath(v, sub);
    if (kept !== undefined) out[k] = kept;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export async function startElasticsearchStandin(options: StandinOptions = {}): Promise<Standin> {
  const cluster = new Cluster();
  const faults: BulkFaults = { rejectRequests: 0, rejectItems: 0 };
  const bulks: BulkRecord[] = [];
  const requests: string[] = [];

  async function route(method: string, parts: string[], query: URLSearchParams, req: IncomingMessage): Promise<[number, unknown]> {
    const [first, second, third] = parts;
    if (parts.length === 0) return method === 'HEAD' || method === 'GET' ? [200, INFO] : [405, null];
    if (first === '_bulk' || second === '_bulk') {
      const index = first === '_bulk' ? null : first!;
      const target = index ? cluster.indices.get(index) ?? cluster.indices.get([...(cluster.aliases.get(index) ?? [])][0] ?? '') : undefined;
      const record: BulkRecord = { index: index ?? '', documents: 0, status: 0, refreshInterval: target?.settings.refresh_interval, replicas: target?.settings.number_of_replicas };
      bulks.push(record);
      const body = await readBody(req);
      try {
        const r = executeBulk(cluster, body, index, faults);
        record.documents = (r.body as { items: unknown[] }).items.length;
        record.status = r.status;
        if (query.get('refresh') === 'true' || query.get('refresh') === 'wait_for') for (const i of r.touched) cluster.refresh(i);
        return [r.status, r.body];
      } catch (err) {
        if (err instanceof EsHttpError) record.status = err.status;
        throw err;
      }
    }
    if (first === '_aliases' && method === 'POST') {
      const body = parseJson(await readBody(req));
      cluster.updateAliases((body.actions as Array<Record<string, { index?: string; alias?: string }>>) ?? []);
      return [200, { acknowledged: true, errors: false }];
    }
    if (first === '_alias' || second === '_alias') {
      const name = first === '_alias' ? second : third;
      const out: Record<string, { aliases: Record<string, object> }> = {};
      const scope = first === '_alias' ? null : new Set(cluster.resolve(first!).map((i) => i.name));
      for (const [alias, set] of cluster.aliases) {
        if (name !== undefined && alias !== name) continue;
        for (const i of set) if (!scope || scope.has(i)) (out[i] ??= { aliases: {} }).aliases[alias] = {};
      }
      if (scope) for (const i of scope) out[i] ??= { aliases: {} };
      if (name !== undefined && Object.keys(out).length === 0) return [404, { error: `alias [${name}] missing`, status: 404 }];
      return [200, out];
    }
    if (first === '_refresh' || second === '_refresh') {
      const targets = first === '_refresh' ? [...cluster.indices.values()] : cluster.resolve(first!);
      for (const i of targets) cluster.refresh(i);
      return [200, { _shards: { total: targets.length, successful: targets.length, failed: 0 } }];
    }
    const index = first!;
    if (parts.length === 1) {
      if (method === 'HEAD') return [cluster.indices.has(index) || cluster.aliases.has(index) ? 200 : 404, null];
      if (method === 'PUT') {
        cluster.createIndex(index, parseJson(await readBody(req)) as never);
        return [200, { acknowledged: true, shards_acknowledged: true, index }];
      }
      if (method === 'DELETE') {
        cluster.deleteIndex(index);
        return [200, { acknowledged: true }];
      }
      if (method === 'GET') return [200, Object.fromEntries(cluster.resolve(index).map((i) => [i.name, { aliases: aliasesOf(i), mappings: i.mappings, settings: { index: i.settings } }]))];
    }
    if (second === '_settings') {
      if (method === 'PUT') {
        const body = parseJson(await readBody(req));
        for (const i of cluster.resolve(index)) cluster.putSettings(i, body);
        return [200, { acknowledged: true }];
      }
      return [200, Object.fromEntries(cluster.resolve(index).map((i) => [i.name, { settings: { index: i.settings } }]))];
    }
    if (second === '_mapping') return [200, Object.fromEntries(cluster.resolve(index).map((i) => [i.name, { mappings: i.mappings }]))];
    if (second === '_doc' && third !== undefined && (method === 'GET' || method === 'HEAD')) {
      const i = cluster.resolve(index)[0]!;
      const doc = i.docs.get(third);
      if (!doc) return [404, { _index: i.name, _id: third, found: false }];
      return [200, { _index: i.name, _id: third, _version: doc.version, _seq_no: doc.seqNo, _primary_term: 1, found: true, _source: doc.source }];
    }
    if (second === '_count' || second === '_search') {
      const body = parseJson(await readBody(req));
      const q = body.query as Record<string, unknown> | undefined;
      const targets = cluster.resolve(index);
      const hits: Array<{ _index: string; _id: string; _score: number; _source: unknown }> = [];
      for (const i of targets) for (const [id, doc] of cluster.searchable(i)) if (matches(q, id, doc)) hits.push({ _index: i.name, _id: id, _score: 1, _source: doc.source });
      const shards = { total: targets.length, successful: targets.length, skipped: 0, failed: 0 };
      if (second === '_count') return [200, { count: hits.length, _shards: shards }];
      const from = Number(body.from ?? query.get('from') ?? 0);
      const size = Number(body.size ?? query.get('size') ?? 10);
      hits.sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
      return [200, { took: 1, timed_out: false, _shards: shards, hits: { total: { value: hits.length, relation: 'eq' }, max_score: hits.length ? 1 : null, hits: hits.slice(from, from + size) } }];
    }
    throw new EsHttpError(400, 'illegal_argument_exception', `request [${method} /${parts.join('/')}] is not supported by the stand-in`);
  }

  function aliasesOf(index: IndexState): Record<string, object> {
    return Object.fromEntries([...cluster.aliases].filter(([, s]) => s.has(index.name)).map(([a]) => [a, {}]));
  }

  const server = createServer((req, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://standin');
    const method = req.method ?? 'GET';
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    requests.push(`${method} ${url.pathname}`);
    const compat = String(req.headers.accept ?? '').includes('vnd.elasticsearch+json');
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      const text = body === null ? '' : JSON.stringify(body);
      res.writeHead(status, {
        ...(options.productHeader === false ? {} : { 'x-elastic-product': 'Elasticsearch' }),
        'content-type': compat ? 'application/vnd.elasticsearch+json;compatible-with=8' : 'application/json',
        'content-length': String(Buffer.byteLength(text)),
        ...headers,
      });
      res.end(method === 'HEAD' ? undefined : text);
    };
    if (!authorized(req, options.auth)) {
      req.resume();
      const reason = 'unable to authenticate with provided credentials and anonymous access is not allowed for this request';
      const challenge = ['Basic realm="security" charset="UTF-8"', 'ApiKey'];
      const cause = { type: 'security_exception', reason, header: { 'WWW-Authenticate': challenge } };
      send(401, { error: { root_cause: [cause], ...cause }, status: 401 }, { 'www-authenticate': challenge.join(', ') });
      return;
    }
    const filter = url.searchParams.get('filter_path');
    route(method, parts, url.searchParams, req).then(
      ([status, body]) => send(status, filter && body !== null ? (filterPath(body, filter.split(',').map((p) => p.split('.'))) ?? {}) : body),
      (err: unknown) => {
        if (err instanceof EsHttpError) send(err.status, err.body());
        else send(500, { error: { root_cause: [], type: 'exception', reason: String(err) }, status: 500 });
      },
    );
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    cluster,
    faults,
    bulks,
    requests,
    documents(name) {
      const out = new Map<string, Record<string, unknown>>();
      for (const i of cluster.resolve(name)) for (const [id, d] of i.docs) out.set(id, d.source);
      return out;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
