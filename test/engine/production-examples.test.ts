import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { datamill, workspace } from '../support/cli.js';
import { testDatabase } from '../support/database.js';
import { startElasticsearchStandin } from '../support/elasticsearch-standin/server.js';
import { sendJson, startJsonApi } from '../support/json-api.js';
import { repoRoot } from '../support/paths.js';
import { startRedshiftDataStandin } from '../support/redshift-data-standin/server.js';
import { productionBucket, type ProductionBucket } from './production-bucket.js';

/*
 * The production examples (jobs/examples/production/), run as they are in the repository with the real
 * CLI. Only environment variables differ from production: where the API, PostgreSQL, S3 (the real
 * s3rver of the suite), Elasticsearch and the Redshift Data API are. Elasticsearch and the Data API are
 * the in-repo stand-ins (test/support/…-standin/), not the services: see docs/production-examples.md.
 */
const examples = join(repoRoot(), 'jobs/examples/production');
const TOKEN = 'orders-api-T0ken-5c4b3a';
const ES_KEY = 'ZXMta2V5OnNlY3JldC0xMjM0NQ==';

/** Stage by stage, the run's output is in the bucket: its job file and one committed manifest per stage. */
async function assertBufferedInS3(bucket: ProductionBucket, job: string, stdout: string, stages: string[]): Promise<string> {
  const runId = /run (\S+) succeeded/.exec(stdout)![1]!;
  const run = `buffer/default/${job}/${runId}/`;
  const keys = (await bucket.keys(run)).map((k) => k.slice(run.length));
  for (const stage of stages) assert.ok(keys.includes(`${stage}/_manifest.json`), `${stage} committed in S3: ${keys.join(', ')}`);
  assert.ok(keys.includes('_job.json'));
  assert.ok(keys.some((k) => /^extract\/part-\d+\./.test(k)), `the extracted parts are in S3: ${keys.join(', ')}`);
  return runId;
}

interface Order {
  id: number;
  number: string;
  customer: { id: number; name: string };
  status: string;
  currency: string;
  total: string;
  items: number;
  updated_at: string;
}

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();

test('orders-api-to-elasticsearch: every page of the API, buffered in S3, indexed by order id; the next run sends only what changed', async (t) => {
  const orders: Order[] = Array.from({ length: 450 }, (_, i) => ({
    id: i + 1, number: `SO-${10_000 + i}`, customer: { id: i % 40, name: `customer ${i % 40}` }, status: 'paid', currency: 'EUR', total: `${i}.90`, items: 1 + (i % 4), updated_at: at(i),
  }));
  // Cursor pagination over the orders updated at or after `updated_since` (inclusive, as many APIs are).
  const api = await startJsonApi((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return sendJson(res, 401, { error: 'unauthorized' });
    const since = req.url.searchParams.get('updated_since');
    const limit = Number(req.url.searchParams.get('limit'));
    const from = Number(req.url.searchParams.get('cursor') ?? 0);
    const matching = orders.filter((o) => since === null || o.updated_at >= since).sort((a, b) => a.updated_at.localeCompare(b.updated_at));
    const next = from + limit < matching.length ? String(from + limit) : null;
    sendJson(res, 200, { data: matching.slice(from, from + limit), meta: { next_cursor: next } });
  });
  t.after(() => api.close());
  const es = await startElasticsearchStandin({ auth: { apiKey: ES_KEY } });
  t.after(() => es.close());
  const bucket = await productionBucket();
  const ws = workspace();
  const env = { ...bucket.env, ORDERS_API_URL: api.url, ORDERS_API_TOKEN: TOKEN, ELASTICSEARCH_URL: es.url, ELASTICSEARCH_API_KEY: ES_KEY, DATAMILL_HOME: ws.home };
  const job = join(examples, 'orders-api-to-elasticsearch.yaml');
  const count = async () => {
    const res = await fetch(`${es.url}/orders/_count`, { headers: { authorization: `ApiKey ${ES_KEY}` } });
    return ((await res.json()) as { count: number }).count;
  };

  const first = await datamill(['run', job], { env, cwd: ws.dir });
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.match(first.stdout, /450 rows extracted, 0 rejected, 450 loaded into elasticsearch orders/);
  assert.deepEqual(api.requests.map((r) => r.url.searchParams.get('cursor')), [null, '200', '400'], 'three pages, following meta.next_cursor');
  assert.equal(api.requests[0]!.url.searchParams.get('updated_since'), null, 'the first run asks for everything');
  await assertBufferedInS3(bucket, 'orders-search', first.stdout, ['extract', 'adapt', 'transform', 'load']);
  assert.equal(existsSync(join(ws.dir, '.datamill/buffer')), false, 'nothing buffered on local disk');
  assert.equal(await count(), 450, 'searchable once the run succeeds');
  assert.deepEqual(es.documents('orders').get('17'), { id: 17, number: 'SO-10016', customer_id: 16, customer: 'customer 16', status: 'paid', currency: 'EUR', total: 16.9, items: 1, updated_at: at(16), day: '2026-01-01' });

  orders[9]!.status = 'refunded';
  orders[9]!.updated_at = at(2000);
  orders[99]!.total = '1234.50';
  orders[99]!.updated_at = at(2001);
  for (let i = 451; i <= 480; i++) orders.push({ id: i, number: `SO-${10_000 + i - 1}`, customer: { id: 1, name: 'customer 1' }, status: 'new', currency: 'USD', total: '5.00', items: 2, updated_at: at(3000 + i) });
  const seen = api.requests.length;
  const second = await datamill(['run', job], { env, cwd: ws.dir });
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.match(second.stdout, /32 rows extracted, 0 rejected, 32 loaded into elasticsearch orders/, 'the 2 changed orders and the 30 new ones; the order at the mark, sent again by the API, is dropped');
  assert.equal(api.requests[seen]!.url.searchParams.get('updated_since'), at(449), 'the mark of the first run is sent to the API');
  await assertBufferedInS3(bucket, 'orders-search', second.stdout, ['extract', 'adapt', 'transform', 'load']);
  assert.equal(await count(), 480, 'no duplicates: a changed order updated its document');
  const docs = es.documents('orders');
  assert.equal(docs.get('10')!.status, 'refunded');
  assert.equal(docs.get('100')!.total, 1234.5);
  assert.equal(docs.get('480')!.currency, 'USD');

  const runId = /run (\S+) succeeded/.exec(second.stdout)![1]!;
  const everything = first.stdout + first.stderr + second.stdout + second.stderr + (await datamill(['logs', runId, '--json'], { env, cwd: ws.dir })).stdout;
  assert.ok(!everything.includes(TOKEN) && !everything.includes(ES_KEY), 'neither the API token nor the Elasticsearch key appears in output or logs');
});

test('customers-orders-to-redshift: a join read with COPY, buffered in S3, staged in S3 and MERGEd through the Data API; the next run moves only changed rows', async (t) => {
  const shop = await testDatabase();
  const warehouse = await testDatabase();
  const bucket = await productionBucket();
  const standin = await startRedshiftDataStandin({ databaseUrl: warehouse.url, s3: bucket.client });
  t.after(async () => {
    await standin.stop();
    await shop.drop();
    await warehouse.drop();
  });
  await shop.query('CREATE SCHEMA shop');
  await shop.query('CREATE TABLE shop.customers (id bigint PRIMARY KEY, name text NOT NULL, country text, updated_at timestamptz NOT NULL)');
  await shop.query('CREATE TABLE shop.orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES shop.customers, status text, total numeric(12,2), created_at timestamptz, updated_at timestamptz NOT NULL)');
  await shop.query(`INSERT INTO shop.customers SELECT i, 'customer ' || i, CASE WHEN i % 3 = 0 THEN NULL ELSE 'FR' END, timestamptz '2026-01-01' FROM generate_series(0, 49) i`);
  await shop.query(`INSERT INTO shop.orders SELECT i, i % 50, 'paid', i * 1.5, timestamptz '2026-01-01' + i * interval '1 second', timestamptz '2026-01-02' + i * interval '1 second' FROM generate_series(1, 2000) i`);
  // The stand-in runs the sink's SQL on PostgreSQL, which has no DISTKEY/SORTKEY: the table is created
  // here, as a DBA would, with the types the sink would give it (docs/sink-redshift.md).
  await warehouse.query('CREATE SCHEMA sales');
  await warehouse.query(`CREATE TABLE sales.orders (id bigint PRIMARY KEY, customer_id bigint, customer varchar(65535), country varchar(65535), status varchar(65535), total decimal(38,10), created_at timestamptz, changed_at timestamptz)`);
  const ws = workspace();
  const env = { ...bucket.env, SHOP_DB_URL: shop.url, AWS_ENDPOINT_URL_REDSHIFT_DATA: standin.endpoint, DATAMILL_HOME: ws.home };
  const job = join(examples, 'customers-orders-to-redshift.yaml');
  const loaded = async () =>
    (await warehouse.query<{ n: string; ids: string; total: string; renamed: string; refunded: string }>(
      `SELECT count(*)::text AS n, count(DISTINCT id)::text AS ids, sum(total)::text AS total,
              count(*) FILTER (WHERE customer = 'Renamed Ltd')::text AS renamed, count(*) FILTER (WHERE status = 'refunded')::text AS refunded FROM sales.orders`,
    ))[0]!;

  const first = await datamill(['run', job], { env, cwd: ws.dir });
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.match(first.stdout, /2000 rows extracted, 0 rejected, 2000 loaded into redshift sales\.orders/);
  await assertBufferedInS3(bucket, 'orders-warehouse', first.stdout, ['extract', 'adapt', 'load']);
  const sent = standin.statements.flatMap((s) => s.subs.map((x) => x.sql));
  const copies = sent.filter((sql) => /^COPY /.test(sql));
  assert.equal(copies.length, 1);
  assert.ok(sent.some((sql) => sql.startsWith('MERGE INTO "sales"."orders"')), 'upsert is a MERGE');
  assert.match(copies[0]!, /FROM 's3:\/\/acme-datamill\/redshift-staging\/default\/orders-warehouse\/[^']+\/manifest\.json' IAM_ROLE 'arn:aws:iam::123456789012:role\/redshift-copy-from-staging' MANIFEST/);
  assert.deepEqual(await bucket.keys('redshift-staging/'), [], 'the staged CSV.gz parts and manifest are deleted after the load');
  const source = async () => (await shop.query<{ total: string }>('SELECT sum(total)::numeric(38,10)::text AS total FROM shop.orders'))[0]!.total;
  assert.deepEqual(await loaded(), { n: '2000', ids: '2000', total: await source(), renamed: '0', refunded: '0' });
  assert.deepEqual(await warehouse.query(`SELECT customer, country FROM sales.orders WHERE id IN (3, 7) ORDER BY id`), [{ customer: 'customer 3', country: 'ZZ' }, { customer: 'customer 7', country: 'FR' }], 'a customer without a country gets the default of adapt.fields.country');

  await shop.query(`UPDATE shop.orders SET status = 'refunded', updated_at = timestamptz '2026-02-01' WHERE id BETWEEN 1 AND 5`);
  await shop.query(`UPDATE shop.customers SET name = 'Renamed Ltd', updated_at = timestamptz '2026-02-01' WHERE id = 7`);
  await shop.query(`INSERT INTO shop.orders SELECT i, i % 50, 'paid', 10, timestamptz '2026-02-01', timestamptz '2026-02-01' + i * interval '1 second' FROM generate_series(2001, 2020) i`);
  const second = await datamill(['run', job], { env, cwd: ws.dir });
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.match(second.stdout, /65 rows extracted, 0 rejected, 65 loaded into redshift sales\.orders/, '5 changed orders, 20 new ones, the 40 earlier orders of the renamed customer (and one of the new)');
  await assertBufferedInS3(bucket, 'orders-warehouse', second.stdout, ['extract', 'adapt', 'load']);
  const after = await loaded();
  assert.deepEqual(after, { n: '2020', ids: '2020', total: await source(), renamed: '41', refunded: '5' }, 'upserted by id: no duplicates');
  const ledger = await warehouse.query<{ target: string; rows: string }>(`SELECT target, rows::text FROM datamill.loads ORDER BY loaded_at`);
  assert.deepEqual(ledger.map((l) => l.rows), ['2000', '65'], 'one ledger entry per run');
});
