import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { datamill, workspace } from '../support/cli.js';
import { startElasticsearchStandin, type Standin } from '../support/elasticsearch-standin/server.js';
import { writeEvents } from './events-fixture.js';

/** These runs load into the in-repo Elasticsearch stand-in (see test/support/elasticsearch-standin/), not a real cluster. */
async function standin(t: { after(fn: () => Promise<void>): void }): Promise<Standin> {
  const es = await startElasticsearchStandin();
  t.after(() => es.close());
  return es;
}

function eventsJob(load: string): string {
  return `job: events-to-es
buffer: file://.datamill/buffer
retries: { attempts: 2, backoff: 50ms }
extract: { from: csv, path: events-1.csv }
adapt:
  fields:
    event_id: { type: integer, required: true }
    ts: { type: timestamp, from: time }
    site_id: integer
    country: string
    views: integer
load:
  to: elasticsearch
  node: "\${env:ES_URL}"
  index: events
${load}
`;
}

interface Show {
  id: string;
  status: string;
  attempts: Array<{ stage: string; attempt: number; status: string; rowsOut: number | null; rowsRejected: number | null }>;
}

async function show(home: string, cwd: string): Promise<Show> {
  const runs = JSON.parse((await datamill(['runs', '--json'], { env: { DATAMILL_HOME: home }, cwd })).stdout) as Array<{ id: string }>;
  return JSON.parse((await datamill(['show', runs[0]!.id, '--json'], { env: { DATAMILL_HOME: home }, cwd })).stdout) as Show;
}

test('a job loads into Elasticsearch; a load killed mid-way is retried and overwrites, with no duplicates', async (t) => {
  const es = await standin(t);
  const ws = workspace();
  writeEvents(ws.dir, 'events-1.csv', { rows: 3000 });
  const job = ws.write('job.yaml', eventsJob('  mode: append\n  key: [event_id]\n  bulk: { bytes: 20KB, concurrency: 2 }'));
  const r = await datamill(['run', job], { env: { DATAMILL_HOME: ws.home, ES_URL: es.url, DATAMILL_FAULT: 'load:after-bulk:1' }, cwd: ws.dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /3000 loaded into elasticsearch events/);
  const s = await show(ws.home, ws.dir);
  assert.deepEqual(s.attempts.filter((a) => a.stage === 'load').map((a) => a.status), ['failed', 'succeeded'], 'the first load attempt was killed after its first _bulk request');
  const docs = es.documents('events');
  assert.equal(docs.size, 3000);
  assert.deepEqual(Object.keys(docs.get('1')!), ['event_id', 'ts', 'site_id', 'country', 'views']);
  assert.equal(es.bulks.reduce((a, b) => a + b.documents, 0) > 3000, true, 'some documents were sent twice, and overwritten');
});

test('replace killed just before the alias swap leaves readers on the old index; the retry swaps to a complete one', async (t) => {
  const es = await standin(t);
  const ws = workspace();
  writeEvents(ws.dir, 'events-1.csv', { rows: 500 });
  const job = ws.write('job.yaml', eventsJob('  mode: replace\n  key: [event_id]'));
  assert.equal((await datamill(['run', job], { env: { DATAMILL_HOME: ws.home, ES_URL: es.url }, cwd: ws.dir })).code, 0);
  const first = [...es.cluster.aliases.get('events')!];
  writeEvents(ws.dir, 'events-1.csv', { rows: 200, start: 10_000 });
  const r = await datamill(['run', job], { env: { DATAMILL_HOME: ws.home, ES_URL: es.url, DATAMILL_FAULT: 'load:before-alias-swap:1' }, cwd: ws.dir });
  assert.equal(r.code, 0, r.stderr);
  const s = await show(ws.home, ws.dir);
  assert.deepEqual(s.attempts.filter((a) => a.stage === 'load').map((a) => a.status), ['failed', 'succeeded']);
  const now = [...es.cluster.aliases.get('events')!];
  assert.notDeepEqual(now, first);
  assert.equal(now[0], `events-${s.id.toLowerCase()}`);
  assert.deepEqual([...es.cluster.indices.keys()], now, 'the old index is deleted, no leftover of the killed attempt');
  assert.equal(es.documents('events').size, 200);
  assert.ok(es.documents('events').has('10000'));
});

test('documents Elasticsearch refuses fail the run with the reason, kept in load/_rejects/, and replace leaves nothing', async (t) => {
  const es = await standin(t);
  const ws = workspace();
  ws.write('events-1.csv', 'event_id,time,site_id,country,views\n1,2026-01-01T00:00:00Z,1,12,3\n2,2026-01-01T00:00:00Z,1,ES,4\n3,2026-01-01T00:00:00Z,2,34,5\n');
  const load = '  mode: replace\n  key: [event_id]\n  mappings: { properties: { country: { type: long } } }';
  const job = ws.write('job.yaml', eventsJob(load));
  const r = await datamill(['run', job], { env: { DATAMILL_HOME: ws.home, ES_URL: es.url }, cwd: ws.dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /load: 1 of 3 documents refused \(33\.33%\), above load\.max_reject_ratio 0; the new index .* was deleted; events is unchanged/);
  const s = await show(ws.home, ws.dir);
  assert.deepEqual(s.attempts.filter((a) => a.stage === 'load').map((a) => a.status), ['failed'], 'a refused document is not worth a retry');
  assert.equal(es.cluster.indices.size, 0);
  assert.equal(es.cluster.aliases.size, 0);
  const dir = join(ws.dir, '.datamill', 'buffer', 'default', 'events-to-es', s.id, 'load', '_rejects');
  const kept = readdirSync(dir).flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n')).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(kept.length, 1);
  assert.equal(kept[0]!._id, '2');
  assert.equal(kept[0]!.type, 'mapper_parsing_exception');
  assert.match(String(kept[0]!.reason), /failed to parse field \[country\] of type \[long\] in document with id '2'/);
  assert.deepEqual(kept[0]!.document, { event_id: 2, ts: '2026-01-01T00:00:00.000Z', site_id: 1, country: 'ES', views: 4 });

  const tolerant = ws.write('tolerant.yaml', eventsJob(`${load}\n  max_reject_ratio: 0.5`));
  const ok = await datamill(['run', tolerant], { env: { DATAMILL_HOME: ws.home, ES_URL: es.url }, cwd: ws.dir });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /1 refused by the target; each with its reason: \.datamill\/buffer\/default\/events-to-es\/\S+\/load\/_rejects\//);
  const loadAttempt = (await show(ws.home, ws.dir)).attempts.find((a) => a.stage === 'load')!;
  assert.deepEqual([loadAttempt.rowsOut, loadAttempt.rowsRejected], [2, 1]);
  assert.equal(es.documents('events').size, 2);
});
