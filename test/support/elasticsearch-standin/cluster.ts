import { randomBytes } from 'node:crypto';
import { indexDocument, type EsError, type Mappings } from './field-types.js';

/** An error answer: HTTP status and Elasticsearch's `{ error: { root_cause, type, reason }, status }` body. */
export class EsHttpError extends Error {
  constructor(readonly status: number, readonly type: string, reason: string, readonly extra: Record<string, unknown> = {}) {
    super(reason);
  }
  body(): unknown {
    const cause = { type: this.type, reason: this.message, ...this.extra };
    return { error: { root_cause: [cause], ...cause }, status: this.status };
  }
}

export interface StoredDoc {
  source: Record<string, unknown>;
  version: number;
  seqNo: number;
}

export interface IndexState {
  name: string;
  uuid: string;
  mappings: Mappings;
  /** Index settings without the `index.` prefix, as strings (how Elasticsearch reports them). */
  settings: Record<string, string>;
  /** What GET _doc sees (real time). */
  docs: Map<string, StoredDoc>;
  /** What _count and _search see: the documents as of the last refresh. */
  searchable: Map<string, StoredDoc>;
  lastRefresh: number;
  seqNo: number;
  refreshes: number;
}

/** Settings every index has from creation; null resets them to these. */
const CREATION_DEFAULTS: Record<string, string> = { number_of_shards: '1', number_of_replicas: '1' };
const NOT_UPDATABLE = new Set(['number_of_shards', 'uuid', 'creation_date', 'provided_name', 'version.created']);

/** Flattens `{ index: { a: { b: 1 } } }`, `{ "index.a.b": 1 }` and `{ a: { b: 1 } }` alike into `{ "a.b": "1" }` (null kept: it resets). */
export function flattenSettings(input: unknown, prefix = '', out: Record<string, string | null> = {}): Record<string, string | null> {
  if (typeof input !== 'object' || input === null) return out;
  for (const [k, v] of Object.entries(input)) {
    const key = prefix + k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flattenSettings(v, `${key}.`, out);
    else out[key.replace(/^index\./, '')] = v === null ? null : String(v);
  }
  return out;
}

function intervalMs(text: string | undefined): number {
  if (text === undefined) return 1000;
  if (text === '-1') return -1;
  const m = /^(\d+)(ms|s|m)?$/.exec(text);
  return m ? Number(m[1]) * (m[2] === 'm' ? 60_000 : m[2] === 'ms' ? 1 : 1000) : 1000;
}

/** The indices, aliases and documents of one stand-in cluster. */
export class Cluster {
  readonly indices = new Map<string, IndexState>();
  readonly aliases = new Map<string, Set<string>>();

  createIndex(name: string, body: { mappings?: Partial<Mappings>; settings?: unknown; aliases?: Record<string, unknown> } = {}): IndexState {
    if (!/^[a-z0-9][^\\/*?"<>| ,#:A-Z]*$/.test(name) || Buffer.byteLength(name) > 255) {
      throw new EsHttpError(400, 'invalid_index_name_exception', `Invalid index name [${name}], must be lowercase, must not contain the following characters [ , ", *, \\, <, |, ,, >, /, ?]`, { index: name });
    }
    if (this.indices.has(name)) throw new EsHttpError(400, 'resource_already_exists_exception', `index [${name}/${this.indices.get(name)!.uuid}] already exists`, { index: name });
    if (this.aliases.has(name)) throw new EsHttpError(400, 'invalid_index_name_exception', `Invalid index name [${name}], an alias with the same name already exists`, { index: name });
    const settings: Record<string, string> = { ...CREATION_DEFAULTS };
    for (const [k, v] of Object.entries(flattenSettings(body.settings ?? {}))) if (v !== null) settings[k] = v;
    const uuid = randomBytes(16).toString('base64url').slice(0, 22);
    Object.assign(settings, { uuid, provided_name: name, creation_date: String(Date.now()), 'version.created': '8521000' });
    const mappings = { ...(body.mappings ?? {}), properties: structuredClone(body.mappings?.properties ?? {}) } as Mappings;
    const state: IndexState = { name, uuid, mappings, settings, docs: new Map(), searchable: new Map(), lastRefresh: Date.now(), seqNo: 0, refreshes: 0 };
    this.indices.set(name, state);
    for (const alias of Object.keys(body.aliases ?? {})) this.addAlias(alias, name);
    return state;
  }

  deleteIndex(name: string): void {
    if (this.aliases.has(name)) throw new EsHttpError(400, 'illegal_argument_exception', `The provided expression [${name}] matches an alias, specify the corresponding concrete indices instead.`);
    if (!this.indices.delete(name)) throw this.missing(name);
    for (const [alias, set] of this.aliases) if (set.delete(name) && set.size === 0) this.aliases.delete(alias);
  }

  missing(name: string): EsHttpError {
    return new EsHttpError(404, 'index_not_found_exception', `no such index [${name}]`, { 'resource.type': 'index_or_alias', 'resource.id': name, index: name });
  }

  /** Concrete indices a read names: an index, an alias, a comma list, `_all` or `*`. */
  resolve(expression: string): IndexState[] {
    if (expression === '_all' || expression === '*') return [...this.indices.values()];
    const out = new Set<IndexState>();
    for (const name of expression.split(',')) {
      const alias = this.aliases.get(name);
      if (alias) for (const i of alias) out.add(this.indices.get(i)!);
      else if (this.indices.has(name)) out.add(this.indices.get(name)!);
      else throw this.missing(name);
    }
    return [...out];
  }

  /** The index a write to `name` goes to, creating it (auto_create_index) when nothing has that name. */
  writeIndex(name: string): IndexState {
    const alias = this.aliases.get(name);
    if (alias) {
      if (alias.size !== 1) throw new EsHttpError(400, 'illegal_argument_exception', `no write index is defined for alias [${name}]. The write index may be explicitly disabled using is_write_index=false or the alias points to multiple indices without one being designated as a write index`);
      return this.indices.get([...alias][0]!)!;
    }
    return this.indices.get(name) ?? this.createIndex(name);
  }

  putSettings(index: IndexState, body: unknown): void {
    const changes = flattenSettings(body);
    for (const k of Object.keys(changes)) {
      if (NOT_UPDATABLE.has(k)) throw new EsHttpError(400, 'illegal_argument_exception', `final ${index.name} setting [index.${k}], not updateable`);
    }
    const wasOff = index.settings.refresh_interval === '-1';
    for (const [k, v] of Object.entries(changes)) {
      if (v !== null) index.settings[k] = v;
      else if (k in CREATION_DEFAULTS) index.settings[k] = CREATION_DEFAULTS[k]!;
      else delete index.settings[k];
    }
    // Turning refresh back on schedules one, as Elasticsearch does; the next read finds it due.
    if (wasOff && index.settings.refresh_interval !== '-1') index.lastRefresh = 0;
  }

  refresh(index: IndexState): void {
    index.searchable = new Map(index.docs);
    index.lastRefresh = Date.now();
    index.refreshes++;
  }

  /** What a search sees now: refreshes first when the index's refresh interval has passed. */
  searchable(index: IndexState): Map<string, StoredDoc> {
    const every = intervalMs(index.settings.refresh_interval);
    if (every >= 0 && Date.now() - index.lastRefresh >= every) this.refresh(index);
    return index.searchable;
  }

  addAlias(alias: string, index: string): void {
    if (this.indices.has(alias)) throw new EsHttpError(400, 'invalid_alias_name_exception', `Invalid alias name [${alias}]: an index or data stream exists with the same name as the alias`);
    let set = this.aliases.get(alias);
    if (!set) this.aliases.set(alias, (set = new Set()));
    set.add(index);
  }

  /** POST _aliases: every action checked first, then all applied together (atomic, as in Elasticsearch). */
  updateAliases(actions: Array<Record<string, { index?: string; alias?: string }>>): void {
    const plan: Array<() => void> = [];
    const removedIndices = new Set<string>();
    for (const action of actions) {
      const [kind, args] = Object.entries(action)[0] ?? [];
      const index = args?.index;
      if (!kind || !index) throw new EsHttpError(400, 'action_request_validation_exception', 'Validation Failed: 1: One of [index] or [indices] is required;');
      if (!this.indices.has(index)) throw this.missing(index);
      if (kind === 'remove_index') {
        removedIndices.add(index);
        plan.push(() => this.deleteIndex(index));
      } else if (kind === 'add' || kind === 'remove') {
        const alias = args.alias;
        if (!alias) throw new EsHttpError(400, 'action_request_validation_exception', 'Validation Failed: 1: [alias] or [aliases] is required;');
        if (kind === 'remove' && !this.aliases.get(alias)?.has(index)) throw new EsHttpError(404, 'aliases_not_found_exception', `aliases [${alias}] missing`, { 'resource.type': 'aliases', 'resource.id': alias });
        if (kind === 'add' && this.indices.has(alias) && !removedIndices.has(alias)) throw new EsHttpError(400, 'invalid_alias_name_exception', `Invalid alias name [${alias}]: an index or data stream exists with the same name as the alias`);
        plan.push(kind === 'add' ? () => this.addAlias(alias, index) : () => this.removeAlias(alias, index));
      } else throw new EsHttpError(400, 'x_content_parse_exception', `[1:${kind.length + 15}] [alias_action] unknown field [${kind}]`);
    }
    for (const step of plan) step();
  }

  private removeAlias(alias: string, index: string): void {
    const set = this.aliases.get(alias);
    set?.delete(index);
    if (set?.size === 0) this.aliases.delete(alias);
  }

  /** Writes one document (index/create); the error is what the bulk item reports. */
  indexDoc(index: IndexState, id: string, source: unknown, op: 'index' | 'create'): { status: number; result: string; doc: StoredDoc } | { status: number; error: EsError } {
    const existing = index.docs.get(id);
    if (op === 'create' && existing) {
      return { status: 409, error: { type: 'version_conflict_engine_exception', reason: `[${id}]: version conflict, document already exists (current version [${existing.version}])` } };
    }
    const error = indexDocument(index.mappings, id, source);
    if (error) return { status: 400, error };
    const doc: StoredDoc = { source: source as Record<string, unknown>, version: (existing?.version ?? 0) + 1, seqNo: index.seqNo++ };
    index.docs.set(id, doc);
    return existing ? { status: 200, result: 'updated', doc } : { status: 201, result: 'created', doc };
  }
}

export function mergeDoc(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out = { ...target };
  for (const [k, v] of Object.entries(patch)) {
    const old = out[k];
    out[k] = v !== null && typeof v === 'object' && !Array.isArray(v) && old !== null && typeof old === 'object' && !Array.isArray(old) ? mergeDoc(old as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}
