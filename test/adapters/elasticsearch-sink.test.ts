import { test } from 'node:test';
import assert from 'node:assert/strict';
import { config as esConfig, createSink, type ElasticsearchSinkSpec } from '../../adapters/elasticsearch/index.js';
import type { LoadRejects } from '../../src/core/connector.js';
import { LoadError } from '../../src/core/errors.js';
import type { Row, Schema } from '../../src/core/schema.js';
import { startElasticsearchStandin, type Standin, type StandinOptions } from '../support/elasticsearch-standin/server.js';
import { freePort } from '../support/postgres-server.js';
import { testStageContext } from '../support/stage-context.js';
import { bufferedInput, EVERY_TYPE } from './typed-input.js';

async function standin(t: { after(fn: () => Promise<void>): void }, options?: StandinOptions): Promise<Standin> {
  const es = await startElasticsearchStandin(options);
  t.after(() => es.close());
  return es;
}

/** Rejects kept in memory the way the stage keeps them in load/_rejects/. */
function keptRejects(): LoadRejects & { kept: Array<Record<string, unknown>> } {
  const kept: Array<Record<string, unknown>> = [];
  return {
    kept,
    get rows() {
      return kept.length;
    },
    async add(r) {
      kept.push(r);
    },
  };
}

async function load(es: Standin | string, schema: Schema, rows: Row[], spec: Partial<ElasticsearchSinkSpec> = {}, options: { run?: string; partRows?: number } = {}) {
  const run = options.run ?? 'run-1';
  const buffered = await bufferedInput(schema, rows, { run, partRows: options.partRows });
  const rejects = keptRejects();
  const ctx = testStageContext({ stage: 'load', run });
  const sink = createSink(esConfig.parse({ to: 'elasticsearch', node: typeof es === 'string' ? es : es.url, index: 'stats', bulk: { backoff: '5ms', max_backoff: '20ms' }, ...spec }));
  try {
    return { result: await sink.load(ctx, buffered.input, rejects), ctx, rejects: rejects.kept };
  } finally {
    buffered.cleanup();
  }
}

async function loadError(promise: Promise<unknown>): Promise<LoadError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof LoadError, `expected a LoadError, got ${String(err)}`);
    return err;
  }
  assert.fail('the load was expected to fail');
}

const STATS: Schema = [
  { name: 'day', type: 'date' },
  { name: 'site_id', type: 'integer' },
  { name: 'views', type: 'integer' },
];

const statsRows = (n: number, views = 1): Row[] => Array.from({ length: n }, (_, i) => [`2026-01-0${1 + (i % 3)}`, i, views]);

test('append writes every row as a document with its types, _id from the key, mappings from the schema', async (t) => {
  const es = await standin(t);
  const schema = EVERY_TYPE;
  const tricky = 'tab\there\nnew line\\backslash "quote" ünï';
  const rows: Row[] = [
    [1, tricky, 0.25, '12345.678', true, Date.UTC(2026, 0, 2, 3, 4, 5, 678), '2026-01-02', { a: [1, 'x'], b: null }],
    [2, null, null, null, null, null, null, null],
    [9007199254740991, '', -1.5e-7, '-0.5', false, 0, '1970-01-01', 'just a string'],
  ];
  const { result, ctx } = await load(es, schema, rows, { key: ['id'] }, { partRows: 2 });
  assert.equal(result.rowsLoaded, 3);
  assert.equal(result.target, 'stats');
  assert.equal(ctx.rows, 3, 'progress reports every document');
  const docs = es.documents('stats');
  assert.deepEqual([...docs.keys()].sort(), ['1', '2', '9007199254740991']);
  assert.deepEqual(docs.get('1'), { id: 1, name: tricky, ratio: 0.25, price: 12345.678, ok: true, ts: '2026-01-02T03:04:05.678Z', day: '2026-01-02', doc: { a: [1, 'x'], b: null } });
  assert.deepEqual(docs.get('2'), { id: 2, name: null, ratio: null, price: null, ok: null, ts: null, day: null, doc: null });
  assert.equal(docs.get('9007199254740991')!.doc, 'just a string');
  const props = es.cluster.indices.get('stats')!.mappings.properties;
  assert.deepEqual(
    Object.fromEntries(Object.entries(props).map(([k, v]) => [k, v.type])),
    { id: 'long', name: 'text', ratio: 'double', price: 'double', ok: 'boolean', ts: 'date', day: 'date', doc: 'object' },
  );
  assert.equal(props.doc!.enabled, false, 'json values are kept in _source, not indexed');
  const count = await fetch(`${es.url}/stats/_count`).then((r) => r.json() as Promise<{ count: number }>);
  assert.equal(count.count, 3, 'the load refreshes the index: the documents are searchable when it returns');
});

test('a retried load of the same run overwrites its documents instead of adding copies, with or without a key', async (t) => {
  const es = await standin(t);
  await load(es, STATS, statsRows(50), {}, { run: 'run-a' });
  await load(es, STATS, statsRows(50), {}, { run: 'run-a' });
  assert.equal(es.documents('stats').size, 50, 'no key: _id is the run and the row number, the same in every attempt');
  assert.ok(es.documents('stats').has('run-a-1'));
  await load(es, STATS, statsRows(50), {}, { run: 'run-b' });
  assert.equal(es.documents('stats').size, 100, 'another run appends');

  await load(es, STATS, statsRows(20), { index: 'keyed', key: ['day', 'site_id'] }, { run: 'run-c' });
  await load(es, STATS, statsRows(20), { index: 'keyed', key: ['day', 'site_id'] }, { run: 'run-d' });
  const keyed = es.documents('keyed');
  assert.equal(keyed.size, 20);
  assert.deepEqual(keyed.get('2026-01-01|0'), { day: '2026-01-01', site_id: 0, views: 1 });
});

test('upsert updates documents by key, keeps fields the input does not have, and adds new keys', async (t) => {
  const es = await standin(t);
  await load(es, [...STATS, { name: 'note', type: 'string' }], [['2026-01-01', 1, 5, 'kept'], ['2026-01-01', 2, 6, 'kept']], { mode: 'upsert', key: ['day', 'site_id'] }, { run: 'r1' });
  const { result } = await load(es, STATS, [['2026-01-01', 2, 60], ['2026-01-01', 3, 7]], { mode: 'upsert', key: ['day', 'site_id'] }, { run: 'r2' });
  assert.equal(result.rowsLoaded, 2);
  assert.equal(result.figures!.created, 1);
  assert.equal(result.figures!.updated, 1);
  const docs = es.documents('stats');
  assert.deepEqual(docs.get('2026-01-01|1'), { day: '2026-01-01', site_id: 1, views: 5, note: 'kept' });
  assert.deepEqual(docs.get('2026-01-01|2'), { day: '2026-01-01', site_id: 2, views: 60, note: 'kept' });
  assert.deepEqual(docs.get('2026-01-01|3'), { day: '2026-01-01', site_id: 3, views: 7 });
});

test('documents go in _bulk requests of about the configured size, several at once, each document once', async (t) => {
  const es = await standin(t);
  const { result } = await load(es, STATS, statsRows(3000), { bulk: { bytes: '8KB', concurrency: 3 } }, { partRows: 700 });
  assert.equal(result.rowsLoaded, 3000);
  assert.equal(es.documents('stats').size, 3000);
  assert.ok(es.bulks.length >= 10, `expected many requests, got ${es.bulks.length}`);
  assert.equal(es.bulks.reduce((a, b) => a + b.documents, 0), 3000, 'no document is sent twice');
  assert.equal(result.figures!.bulk_requests, es.bulks.length);
});

test('a _bulk request answered 429 is sent again after a backoff, and the load succeeds', async (t) => {
  const es = await standin(t);
  es.faults.rejectRequests = 2;
  const { result, ctx } = await load(es, STATS, statsRows(100));
  assert.equal(result.rowsLoaded, 100);
  assert.equal(es.documents('stats').size, 100);
  assert.deepEqual(es.bulks.map((b) => b.status), [429, 429, 200]);
  assert.equal(result.figures!.throttled, 2);
  const warnings = ctx.logs.filter((l) => l.level === 'warn' && /429/.test(l.message));
  assert.equal(warnings.length, 2);
  assert.match(warnings[0]!.message, /sending again in \d+ ms \(retry 1 of 8\)/);
});

test('documents refused with a per-item 429 (es_rejected_execution_exception) are sent again, alone', async (t) => {
  const es = await standin(t);
  es.faults.rejectItems = 7;
  const { result, rejects } = await load(es, STATS, statsRows(100));
  assert.equal(result.rowsLoaded, 100);
  assert.deepEqual(rejects, []);
  assert.equal(es.documents('stats').size, 100);
  assert.deepEqual(es.bulks.map((b) => b.documents), [100, 7], 'the second request carries only the refused documents');
});

test('429s beyond the configured retries fail the load as retryable, naming the cluster and what to change', async (t) => {
  const es = await standin(t);
  es.faults.rejectRequests = 100;
  const err = await loadError(load(es, STATS, statsRows(10), { bulk: { retries: 2, backoff: '1ms' } }));
  assert.equal(err.retryable, true);
  assert.match(err.message, /kept refusing 10 documents with 429 .* after 2 retries.*load\.bulk\.concurrency/);
  assert.equal(es.bulks.length, 3);
});

/** An index whose `site` is a long, loaded with text: some values coerce, others conflict. */
async function conflictingLoad(es: Standin, spec: Partial<ElasticsearchSinkSpec>, run = 'run-1') {
  const schema: Schema = [{ name: 'id', type: 'integer' }, { name: 'site', type: 'string' }];
  return load(es, schema, [[1, '12'], [2, 'abc'], [3, '7'], [4, 'x-9']], { key: ['id'], mappings: { properties: { site: { type: 'long' } } }, ...spec }, { run });
}

test('documents refused for a mapping conflict are kept as rejects with Elasticsearch\'s reason, within max_reject_ratio', async (t) => {
  const es = await standin(t);
  const { result, rejects } = await conflictingLoad(es, { max_reject_ratio: 0.5 });
  assert.equal(result.rowsLoaded, 2);
  assert.equal(result.figures!.rejected, 2);
  assert.deepEqual([...es.documents('stats').keys()].sort(), ['1', '3']);
  assert.equal(rejects.length, 2);
  assert.deepEqual({ ...rejects[0], caused_by: undefined }, {
    row: 2,
    _id: '2',
    index: 'stats',
    status: 400,
    type: 'mapper_parsing_exception',
    reason: "failed to parse field [site] of type [long] in document with id '2'. Preview of field's value: 'abc'",
    caused_by: undefined,
    document: { id: 2, site: 'abc' },
  });
  assert.deepEqual(rejects[0]!.caused_by, { type: 'illegal_argument_exception', reason: 'For input string: "abc"' });
});

test('more refused documents than max_reject_ratio allows fail the load, not retryable, pointing at the rejects', async (t) => {
  const es = await standin(t);
  const { rejects, err } = await (async () => {
    const kept = keptRejects();
    const buffered = await bufferedInput([{ name: 'id', type: 'integer' }, { name: 'site', type: 'string' }], [[1, '12'], [2, 'abc']]);
    t.after(() => buffered.cleanup());
    const sink = createSink(esConfig.parse({ to: 'elasticsearch', node: es.url, index: 'stats', key: ['id'], mappings: { properties: { site: { type: 'long' } } } }));
    return { rejects: kept.kept, err: await loadError(sink.load(testStageContext({ stage: 'load' }), buffered.input, kept)) };
  })();
  assert.equal(err.retryable, false);
  assert.match(err.message, /1 of 2 documents refused \(50\.00%\), above load\.max_reject_ratio 0; .*load\/_rejects\//);
  assert.equal(rejects.length, 1);
});

test('a row with a null key cannot have a stable _id and is rejected with the column named', async (t) => {
  const es = await standin(t);
  const { result, rejects } = await load(es, STATS, [['2026-01-01', 1, 1], ['2026-01-01', null, 2]], { key: ['day', 'site_id'], max_reject_ratio: 0.5 });
  assert.equal(result.rowsLoaded, 1);
  assert.deepEqual(rejects, [{ row: 2, field: 'site_id', reason: 'key column site_id is null: a document needs every key value for its _id', document: { day: '2026-01-01', site_id: null, views: 2 } }]);
});

test('composite keys escape their separator, so different keys never share an _id', async (t) => {
  const es = await standin(t);
  const schema: Schema = [{ name: 'a', type: 'string' }, { name: 'b', type: 'string' }];
  await load(es, schema, [['x|y', 'z'], ['x', 'y|z'], ['x\\', 'y']], { key: ['a', 'b'] });
  assert.deepEqual([...es.documents('stats').keys()].sort(), ['x\\\\|y', 'x\\|y|z', 'x|y\\|z']);
});

test('replace loads a new index with refresh off and no replicas, restores them, swaps the alias in one call and deletes the old index', async (t) => {
  const es = await standin(t);
  await load(es, STATS, statsRows(30), { mode: 'replace' }, { run: 'run-1' });
  assert.deepEqual([...es.cluster.aliases.get('stats')!], ['stats-run-1']);
  es.bulks.length = 0;
  es.requests.length = 0;
  const { result } = await load(es, STATS, statsRows(12, 9), { mode: 'replace', bulk: { bytes: 200 } }, { run: 'RUN-2' });
  assert.equal(result.target, 'stats');
  assert.equal(result.figures!.index, 'stats-run-2');
  assert.equal(result.figures!.replaced, 'stats-run-1');
  assert.deepEqual([...es.cluster.aliases.get('stats')!], ['stats-run-2']);
  assert.ok(!es.cluster.indices.has('stats-run-1'), 'the old index is deleted');
  assert.ok(es.bulks.length > 1);
  for (const b of es.bulks) assert.deepEqual([b.index, b.refreshInterval, b.replicas], ['stats-run-2', '-1', '0']);
  const settings = es.cluster.indices.get('stats-run-2')!.settings;
  assert.equal(settings.refresh_interval, undefined, 'refresh_interval is back to the default');
  assert.equal(settings.number_of_replicas, '1', 'replicas are back to those of the index replaced');
  assert.equal(es.requests.filter((r) => r === 'POST /_aliases').length, 1, 'one atomic _aliases call');
  const docs = es.documents('stats');
  assert.equal(docs.size, 12);
  assert.ok([...docs.values()].every((d) => d.views === 9));
  const count = await fetch(`${es.url}/stats/_count`).then((r) => r.json() as Promise<{ count: number }>);
  assert.equal(count.count, 12, 'the new index is refreshed before the swap');
});

test('replace keeps the job\'s replica and refresh settings once loaded', async (t) => {
  const es = await standin(t);
  await load(es, STATS, statsRows(5), { mode: 'replace', settings: { number_of_replicas: 2, refresh_interval: '30s', number_of_shards: 3 } });
  const settings = es.cluster.indices.get('stats-run-1')!.settings;
  assert.deepEqual([settings.number_of_replicas, settings.refresh_interval, settings.number_of_shards], ['2', '30s', '3']);
  assert.deepEqual([es.bulks[0]!.refreshInterval, es.bulks[0]!.replicas], ['-1', '0']);
});

test('replace over a concrete index of the alias\'s name turns it into the alias in the same atomic call', async (t) => {
  const es = await standin(t);
  await load(es, STATS, statsRows(40), {}, { run: 'old' });
  await load(es, STATS, statsRows(3), { mode: 'replace' }, { run: 'new' });
  assert.deepEqual([...es.cluster.aliases.get('stats')!], ['stats-new']);
  assert.equal(es.documents('stats').size, 3);
});

test('a failed replace deletes its new index and leaves the alias and its documents as they were', async (t) => {
  const es = await standin(t);
  await conflictingLoad(es, { mode: 'replace', max_reject_ratio: 1 }, 'good');
  assert.equal(es.documents('stats').size, 2);
  const failed = await conflictingLoad(es, { mode: 'replace' }, 'bad').then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e as LoadError,
  );
  assert.match(failed.message, /2 of 4 documents refused .*the new index stats-bad was deleted; stats is unchanged/);
  assert.ok(!es.cluster.indices.has('stats-bad'));
  assert.deepEqual([...es.cluster.aliases.get('stats')!], ['stats-good']);
  assert.equal(es.documents('stats').size, 2);
});

test('replace run again after it succeeded changes nothing; after a crashed attempt it rebuilds the index', async (t) => {
  const es = await standin(t);
  await load(es, STATS, statsRows(8), { mode: 'replace' }, { run: 'r' });
  const again = await load(es, STATS, statsRows(8), { mode: 'replace' }, { run: 'r' });
  assert.equal(again.result.alreadyLoaded, true);
  assert.equal(again.result.rowsLoaded, 8);
  // An attempt killed mid-load leaves its index behind, unaliased.
  es.cluster.createIndex('stats-s', { settings: { refresh_interval: '-1' } });
  es.cluster.indexDoc(es.cluster.indices.get('stats-s')!, 'stray', { views: 'partial' }, 'index');
  const { ctx } = await load(es, STATS, statsRows(4), { mode: 'replace' }, { run: 's' });
  assert.ok(ctx.logs.some((l) => /deleting stats-s, left by an earlier attempt/.test(l.message)));
  assert.deepEqual([...es.documents('stats').keys()].sort(), ['s-1', 's-2', 's-3', 's-4']);
});

test('API-key and basic credentials are sent; refused ones fail clearly without retry and without the secret', async (t) => {
  const es = await standin(t, { auth: { apiKey: 'c2VjcmV0LWlkOnNlY3JldC1rZXk=', username: 'elastic', password: 'pa55-word' } });
  process.env.DATAMILL_TEST_ES_KEY = 'c2VjcmV0LWlkOnNlY3JldC1rZXk=';
  process.env.DATAMILL_TEST_ES_PASSWORD = 'pa55-word';
  await load(es, STATS, statsRows(3), { auth: { api_key: '${env:DATAMILL_TEST_ES_KEY}' } });
  await load(es, STATS, statsRows(3), { index: 'basic', auth: { username: 'elastic', password: '${env:DATAMILL_TEST_ES_PASSWORD}' } });
  assert.equal(es.documents('stats').size, 3);
  assert.equal(es.documents('basic').size, 3);
  process.env.DATAMILL_TEST_ES_KEY = 'd3Jvbmcta2V5LXZhbHVl';
  const err = await loadError(load(es, STATS, statsRows(3), { auth: { api_key: '${env:DATAMILL_TEST_ES_KEY}' } }));
  assert.equal(err.retryable, false);
  assert.match(err.message, /HTTP 401 security_exception: unable to authenticate .*check load\.auth/);
  assert.ok(!err.message.includes('d3Jvbmcta2V5LXZhbHVl'));
});

test('a server that is not Elasticsearch, and an unreachable node, fail with what to check', async (t) => {
  const impostor = await standin(t, { productHeader: false });
  const notEs = await loadError(load(impostor, STATS, statsRows(1)));
  assert.equal(notEs.retryable, false);
  assert.match(notEs.message, /not as Elasticsearch \(no "x-elastic-product: Elasticsearch" header\)/);
  const port = await freePort();
  const down = await loadError(load(`http://user:hunter22@127.0.0.1:${port}`, STATS, statsRows(1)));
  assert.equal(down.retryable, true, 'an unreachable cluster is worth retrying the stage');
  assert.match(down.message, new RegExp(`cannot reach Elasticsearch at 127\\.0\\.0\\.1:${port}`));
  assert.ok(!down.message.includes('hunter22'));
});

test('a key the input does not have, and an invalid job section, are refused before anything is sent', async (t) => {
  const es = await standin(t);
  const err = await loadError(load(es, STATS, statsRows(1), { key: ['nope'] }));
  assert.match(err.message, /load\.key names nope, which the input does not have; input columns are: day, site_id, views/);
  assert.equal(es.requests.length, 0);
  const upsert = esConfig.safeParse({ to: 'elasticsearch', node: es.url, index: 'stats', mode: 'upsert' });
  assert.equal(upsert.success, false);
  assert.match(JSON.stringify(upsert.error!.issues), /mode upsert needs key/);
  const name = esConfig.safeParse({ to: 'elasticsearch', node: es.url, index: 'Stats/2026' });
  assert.equal(name.success, false);
});
