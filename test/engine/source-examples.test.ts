import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { testDatabase } from '../support/database.js';
import { datamill, workspace } from '../support/cli.js';
import { sendJson, startJsonApi } from '../support/json-api.js';
import { repoRoot } from '../support/paths.js';

const examples = join(repoRoot(), 'jobs/examples');
const TOKEN = 'orders-T0ken-9f8e7d';

interface Order {
  id: number;
  customer: { name: string; country: string };
  amount: string;
  status: string;
  updated_at: string;
}

const minute = (n: number) => new Date(Date.UTC(2026, 2, 1, 0, n)).toISOString();

test('the http → postgres example loads every page, then on its next run only the orders changed since', async (t) => {
  const orders: Order[] = Array.from({ length: 250 }, (_, i) => ({ id: i + 1, customer: { name: `c${i % 17}`, country: i % 5 === 0 ? 'ES' : 'FR' }, amount: `${i}.25`, status: 'paid', updated_at: minute(i) }));
  const api = await startJsonApi((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return sendJson(res, 401, { error: 'unauthorized' });
    const since = req.url.searchParams.get('updated_since');
    const page = Number(req.url.searchParams.get('page'));
    const size = Number(req.url.searchParams.get('per_page'));
    const matching = orders.filter((o) => since === null || o.updated_at >= since).sort((a, b) => a.updated_at.localeCompare(b.updated_at));
    sendJson(res, 200, { data: matching.slice((page - 1) * size, page * size), page });
  });
  t.after(() => api.close());
  const db = await testDatabase();
  t.after(() => db.drop());
  const ws = workspace();
  const env = { ORDERS_API_URL: api.url, ORDERS_API_TOKEN: TOKEN, WAREHOUSE_URL: db.url, DATAMILL_HOME: ws.home };
  const job = join(examples, 'orders-api-postgres.yaml');

  const first = await datamill(['run', job], { env, cwd: ws.dir });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /250 rows extracted, 0 rejected, 250 loaded into postgres shop\.orders/);
  assert.deepEqual(api.requests.map((r) => r.url.searchParams.get('page')), ['1', '2', '3']);

  orders[9]!.amount = '999.00';
  orders[9]!.updated_at = minute(1000);
  for (let i = 251; i <= 270; i++) orders.push({ id: i, customer: { name: 'new', country: 'PT' }, amount: '1.00', status: 'paid', updated_at: minute(2000 + i) });
  const second = await datamill(['run', job], { env, cwd: ws.dir });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /21 rows extracted/, 'the changed order and the 20 new ones; the one at the mark is dropped');
  assert.equal(api.requests.at(-1)!.url.searchParams.get('updated_since'), minute(249));
  const rows = await db.query<{ n: string; amount: string; countries: string }>(`SELECT count(*)::text AS n, (SELECT amount::text FROM shop.orders WHERE id = 10) AS amount, string_agg(DISTINCT country, ',' ORDER BY country) AS countries FROM shop.orders`);
  assert.deepEqual(rows[0], { n: '270', amount: '999.00', countries: 'ES,FR,PT' });

  const everything = first.stdout + first.stderr + second.stdout + second.stderr + (await datamill(['logs', /run (\S+) succeeded/.exec(second.stdout)![1]!, '--json'], { env, cwd: ws.dir })).stdout;
  assert.ok(!everything.includes(TOKEN), 'the token appears nowhere');
});

test('the postgres → postgres incremental example moves only new and changed rows into the mart', async (t) => {
  const db = await testDatabase();
  t.after(() => db.drop());
  await db.query('CREATE SCHEMA shop');
  await db.query('CREATE TABLE shop.orders (id bigint PRIMARY KEY, customer text, amount numeric(12,2), status text, updated_at timestamptz NOT NULL)');
  await db.query(`INSERT INTO shop.orders SELECT i, 'c' || (i % 13), i, CASE WHEN i % 10 = 0 THEN 'draft' ELSE 'paid' END, timestamptz '2026-03-01' + i * interval '1 second' FROM generate_series(1, 1000) i`);
  const ws = workspace();
  const env = { SHOP_DB_URL: db.url, WAREHOUSE_URL: db.url, DATAMILL_HOME: ws.home };
  const job = join(examples, 'orders-incremental.yaml');

  const first = await datamill(['run', job], { env, cwd: ws.dir });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /900 rows extracted, 0 rejected, 900 loaded into postgres mart\.orders/);

  await db.query(`UPDATE shop.orders SET status = 'refunded', updated_at = now() WHERE id IN (1, 2, 3)`);
  await db.query(`INSERT INTO shop.orders SELECT i, 'new', i, 'paid', now() FROM generate_series(1001, 1010) i`);
  const second = await datamill(['run', job], { env, cwd: ws.dir });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /13 rows extracted/);
  const mart = await db.query<{ n: string; refunded: string; days: string }>(`SELECT count(*)::text AS n, count(*) FILTER (WHERE status = 'refunded')::text AS refunded, count(DISTINCT day)::text AS days FROM mart.orders`);
  assert.equal(mart[0]!.n, '910');
  assert.equal(mart[0]!.refunded, '3');
});

test('an HTTP source answering 500s and then garbage fails the run with the reason, loads nothing and shows no secret', async (t) => {
  let calls = 0;
  const api = await startJsonApi((_req, res) => {
    calls++;
    if (calls <= 2) return sendJson(res, 500, { error: 'boom' });
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>Maintenance</title>');
  });
  t.after(() => api.close());
  const db = await testDatabase();
  t.after(() => db.drop());
  const ws = workspace();
  const job = ws.write('job.yaml', `job: api-garbage
extract:
  from: http
  url: "${api.url}/v2/events"
  params: { api_key: "\${env:EVENTS_API_KEY}" }
  headers: { Authorization: "Bearer \${env:EVENTS_API_KEY}" }
  records: events
  request_retries: { attempts: 3, backoff: 10ms }
adapt:
  fields: { id: integer }
load:
  to: postgres
  connection: "\${env:WAREHOUSE_URL}"
  table: events
`);
  const env = { EVENTS_API_KEY: TOKEN, WAREHOUSE_URL: db.url, DATAMILL_HOME: ws.home };
  const r = await datamill(['run', job], { env, cwd: ws.dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /extract: GET http:\/\/127\.0\.0\.1:\d+\/v2\/events\?api_key=\$\{env:EVENTS_API_KEY\} \(page 1\): the response is not JSON .*expected a JSON document with an array of records at 'events'/);
  assert.equal(calls, 3, 'the 500s were retried, the garbage was not');
  const [run] = JSON.parse((await datamill(['runs', '--json'], { env, cwd: ws.dir })).stdout) as Array<{ id: string; status: string; error: { stage: string; name: string; retryable: boolean } }>;
  assert.deepEqual([run!.status, run!.error.stage, run!.error.name, run!.error.retryable], ['failed', 'extract', 'SourceError', false]);
  assert.equal((await db.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'events'`)).length, 0, 'nothing was loaded');
  const everything = r.stdout + r.stderr + (await datamill(['logs', run!.id, '--json'], { env, cwd: ws.dir })).stdout + (await datamill(['show', run!.id, '--json'], { env, cwd: ws.dir })).stdout;
  assert.ok(!everything.includes(TOKEN), 'the key appears nowhere');
  assert.match(everything, /HTTP 500 Internal Server Error.*retrying in 10 ms/);
});
