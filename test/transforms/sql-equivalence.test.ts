import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonValue, Row, Schema } from '../../src/core/schema.js';
import { runTransforms, type PipelineContext, type TransformStep } from '../../transforms/pipeline.js';
import { testDatabase, type TestDatabase } from '../support/database.js';
import { seededRandom } from '../support/random.js';
import { testStageContext } from '../support/stage-context.js';
import { createTable, differences } from './sql-tables.js';

/**
 * Each transform (and a chain of them) run through runTransforms over ~5,000 rows must give exactly the
 * rows PostgreSQL gives for the same computation written in SQL.
 */
const ROWS = 5000;

const schema: Schema = [
  { name: 'id', type: 'integer' },
  { name: 'site', type: 'string' },
  { name: 'country', type: 'string' },
  { name: 'views', type: 'integer' },
  { name: 'clicks', type: 'integer' },
  { name: 'revenue', type: 'decimal' },
  { name: 'ratio', type: 'number' },
  { name: 'ts', type: 'timestamp' },
  { name: 'day', type: 'date' },
  { name: 'raw_ts', type: 'string' },
  { name: 'raw_amount', type: 'string' },
  { name: 'payload', type: 'json' },
];

const generator = seededRandom;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function generateRows(): Row[] {
  const rnd = generator(42);
  const int = (n: number) => Math.floor(rnd() * n);
  const maybe = <T>(nullChance: number, make: () => T): T | null => (rnd() < nullChance ? null : make());
  const rows: Row[] = [];
  for (let id = 0; id < ROWS; id++) {
    const ts = maybe(0.1, () => Date.UTC(2026, 0, 1) + int(60 * 24 * 200) * 60_000);
    const rawTs = maybe(0.05, () => `${pad(1 + int(28))}/${pad(1 + int(12))}/${2025 + int(2)} ${pad(4 + int(20))}:${pad(int(60))}`);
    const rawAmount = maybe(0.05, () => {
      if (rnd() < 0.03) return 'n/a';
      const cents = int(200_000_000) - 20_000_000;
      const abs = Math.abs(cents);
      const whole = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, '.');
      return `${cents < 0 ? '-' : ''}${whole},${pad(abs % 100)}`;
    });
    const payload = maybe(0.05, (): JsonValue => {
      const p: { [k: string]: JsonValue } = { user: rnd() < 0.8 ? { id: int(100_000), name: `u${int(500)}` } : { id: int(100_000) } };
      if (rnd() < 0.9) p.score = rnd() < 0.5 ? int(100) : int(8000) / 8;
      if (rnd() < 0.7) p.flag = rnd() < 0.5;
      if (rnd() < 0.4) p.tags = ['a', int(3)];
      if (rnd() < 0.5) p.deep = { a: { b: int(10) } };
      return p;
    });
    rows.push([
      id,
      maybe(0.05, () => `s${int(40)}`),
      maybe(0.05, () => ['ES', 'FR', 'ZZ', 'DE', 'US'][int(5)]!),
      maybe(0.1, () => (rnd() < 0.1 ? 0 : int(1000))),
      maybe(0.1, () => int(100)),
      maybe(0.1, () => `${rnd() < 0.2 ? '-' : ''}${int(100_000)}.${pad(int(100))}`),
      maybe(0.1, () => (int(550_000) - 50_000) / 1024),
      ts,
      maybe(0.05, () => `2026-02-${pad(1 + int(10))}`),
      rawTs,
      rawAmount,
      payload,
    ]);
  }
  return rows;
}

let db: TestDatabase;
const rows = generateRows();

before(async () => {
  db = await testDatabase();
  await createTable(db, 'src', schema, rows);
  await db.query('ALTER TABLE src ADD PRIMARY KEY (id)');
});

after(async () => {
  await db?.drop();
});

async function* batches(size: number): AsyncIterable<Row[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

let tables = 0;

interface Outcome {
  schema: Schema;
  rejects: number;
  logs: { message: string }[];
  table: string;
}

async function run(steps: TransformStep[]): Promise<Outcome> {
  const stage = testStageContext({ stage: 'transform' });
  let rejects = 0;
  const ctx: PipelineContext = { where: 'transform', tmpDir: stage.tmpDir, log: stage.log, reject: () => void rejects++ };
  const result = await runTransforms(steps, { schema, batches: batches(512) }, ctx);
  const out: Row[] = [];
  for await (const b of result.batches) out.push(...b);
  const table = `out_${++tables}`;
  await createTable(db, table, result.schema, out);
  return { schema: result.schema, rejects, logs: stage.logs, table };
}

async function assertSameAsSql(outcome: Outcome, sql: string): Promise<void> {
  const { extra, missing } = await differences(db, outcome.table, outcome.schema, sql);
  assert.deepEqual({ extra, missing }, { extra: [], missing: [] });
}

const step = (name: string, config: unknown, i = 0): TransformStep => ({ name, config, where: `transform[${i}].${name}` });

test('filter equals WHERE', async () => {
  const out = await run([step('filter', "views > 0 and country <> 'ZZ'")]);
  await assertSameAsSql(out, "SELECT * FROM src WHERE views > 0 AND country <> 'ZZ'");
});

test('derive equals computed columns, division by zero giving null', async () => {
  const out = await run([step('derive', { ctr: 'clicks / views', views: 'views * 2', ctr2: 'ctr * 2' })]);
  await assertSameAsSql(
    out,
    `SELECT id, site, country, views * 2, clicks, revenue, ratio, ts, day, raw_ts, raw_amount, payload,
            clicks::float8 / nullif(views, 0), 2 * (clicks::float8 / nullif(views, 0)) FROM src`,
  );
});

test('rename, select and drop equal a projection', async () => {
  const out = await run([step('rename', { site: 'site_name' }, 0), step('select', ['country', 'site_name', 'payload', 'id'], 1), step('drop', ['payload'], 2)]);
  assert.deepEqual(out.schema.map((f) => f.name), ['country', 'site_name', 'id']);
  await assertSameAsSql(out, 'SELECT country, site, id FROM src');
});

test('impute equals coalesce with the mean, the commonest value, a constant and the previous value', async () => {
  const out = await run([
    step('impute', {
      views: { strategy: 'mean' },
      ratio: { strategy: 'mean' },
      revenue: { strategy: 'mean' },
      country: 'ZZ',
      site: { strategy: 'most_frequent' },
      clicks: { strategy: 'previous' },
    }),
  ]);
  await assertSameAsSql(
    out,
    `SELECT id,
            coalesce(site, (SELECT site FROM src WHERE site IS NOT NULL GROUP BY site ORDER BY count(*) DESC, site COLLATE "C" LIMIT 1)),
            coalesce(country, 'ZZ'),
            coalesce(views, (SELECT round(avg(views))::bigint FROM src)),
            coalesce(clicks, (SELECT p.clicks FROM src p WHERE p.id < s.id AND p.clicks IS NOT NULL ORDER BY p.id DESC LIMIT 1)),
            coalesce(revenue, (SELECT round(avg(revenue), 2) FROM src)),
            coalesce(ratio, (SELECT avg(ratio) FROM src)),
            ts, day, raw_ts, raw_amount, payload
       FROM src s`,
  );
});

test('flatten with discovery equals the json paths extracted in SQL', async () => {
  const out = await run([step('flatten', { field: 'payload' })]);
  assert.deepEqual(out.schema.slice(11).map((f) => `${f.name}:${f.type}`), [
    'payload_deep_a_b:integer',
    'payload_flag:boolean',
    'payload_score:number',
    'payload_tags:json',
    'payload_user_id:integer',
    'payload_user_name:string',
  ]);
  await assertSameAsSql(
    out,
    `SELECT id, site, country, views, clicks, revenue, ratio, ts, day, raw_ts, raw_amount,
            (payload->'deep'->'a'->>'b')::bigint, (payload->>'flag')::boolean, (payload->>'score')::float8,
            nullif(payload->'tags', 'null'::jsonb), (payload->'user'->>'id')::bigint, payload->'user'->>'name'
       FROM src`,
  );
});

test('flatten with declared fields equals the same extraction', async () => {
  const out = await run([step('flatten', { field: 'payload', prefix: '', fields: { 'user.id': 'integer', score: 'decimal' }, keep: true })]);
  await assertSameAsSql(
    out,
    `SELECT id, site, country, views, clicks, revenue, ratio, ts, day, raw_ts, raw_amount, payload,
            (payload->'user'->>'id')::bigint, (payload->>'score')::numeric FROM src`,
  );
});

test('parse equals to_timestamp in a time zone and a locale-aware numeric cast', async () => {
  const out = await run([
    step('parse', {
      raw_ts: { as: 'timestamp', format: 'DD/MM/YYYY HH:mm', timezone: 'Europe/Madrid' },
      raw_amount: { as: 'decimal', decimal: ',', thousands: '.', on_invalid: 'null' },
    }),
  ]);
  await assertSameAsSql(
    out,
    `SELECT id, site, country, views, clicks, revenue, ratio, ts, day,
            to_timestamp(raw_ts, 'DD/MM/YYYY HH24:MI')::timestamp AT TIME ZONE 'Europe/Madrid',
            CASE WHEN raw_amount = 'n/a' THEN NULL ELSE replace(replace(raw_amount, '.', ''), ',', '.')::numeric END,
            payload FROM src`,
  );
});

test('parse rejects exactly the rows SQL finds invalid', async () => {
  const out = await run([step('parse', { raw_amount: { as: 'number', decimal: ',', thousands: '.' } })]);
  const [{ n }] = (await db.query<{ n: string }>("SELECT count(*) AS n FROM src WHERE raw_amount = 'n/a'")) as [{ n: string }];
  assert.equal(out.rejects, Number(n));
  await assertSameAsSql(
    out,
    `SELECT id, site, country, views, clicks, revenue, ratio, ts, day, raw_ts,
            replace(replace(raw_amount, '.', ''), ',', '.')::float8, payload FROM src WHERE raw_amount IS DISTINCT FROM 'n/a'`,
  );
});

const groupConfig = {
  by: ['site', 'day'],
  count: 'n',
  sum: ['views', 'revenue', 'ratio'],
  min: { first_ts: 'ts', low_country: 'country' },
  max: { last_ts: 'ts', high_revenue: 'revenue' },
  avg: { avg_views: 'views', avg_ratio: 'ratio', avg_revenue: 'revenue' },
};
const groupSql = `SELECT site, day, count(*), sum(views), sum(revenue), sum(ratio), min(ts), min(country COLLATE "C"), max(ts), max(revenue),
                         avg(views), avg(ratio), avg(revenue)
                    FROM src GROUP BY site, day`;

test('group equals GROUP BY with count, sum, min, max and avg', async () => {
  const out = await run([step('group', groupConfig)]);
  assert.ok(!out.logs.some((l) => /spilling/.test(l.message)));
  await assertSameAsSql(out, groupSql);
});

test('group in 16Ki of memory spills to disk and still equals GROUP BY', async () => {
  const out = await run([step('group', { ...groupConfig, memory: '16Ki' })]);
  assert.ok(out.logs.some((l) => /spilling partial groups to disk/.test(l.message)), 'expected the group to spill');
  await assertSameAsSql(out, groupSql);
});

test('a chained pipeline equals the same query written in SQL', async () => {
  const out = await run([
    step('parse', { raw_amount: { as: 'decimal', decimal: ',', thousands: '.', on_invalid: 'null' }, raw_ts: { as: 'timestamp', format: 'DD/MM/YYYY HH:mm', timezone: 'Europe/Madrid' } }, 0),
    step('filter', "views > 0 and country <> 'ZZ'", 1),
    step('flatten', { field: 'payload', prefix: 'p_', fields: { 'user.id': 'integer', score: 'number' } }, 2),
    step('derive', { ctr: 'clicks / views' }, 3),
    step('impute', { ctr: { strategy: 'mean' }, p_score: 0 }, 4),
    step('group', { by: ['country'], count: true, sum: { amount: 'raw_amount', score: 'p_score' }, avg: ['ctr'], max: { latest: 'raw_ts' }, min: { first_user: 'p_user_id' }, memory: '16Ki' }, 5),
  ]);
  await assertSameAsSql(
    out,
    `WITH parsed AS (
       SELECT *, CASE WHEN raw_amount = 'n/a' THEN NULL ELSE replace(replace(raw_amount, '.', ''), ',', '.')::numeric END AS amount,
              to_timestamp(raw_ts, 'DD/MM/YYYY HH24:MI')::timestamp AT TIME ZONE 'Europe/Madrid' AS at
         FROM src WHERE views > 0 AND country <> 'ZZ'),
     derived AS (
       SELECT *, (payload->'user'->>'id')::bigint AS user_id, coalesce((payload->>'score')::float8, 0) AS score,
              clicks::float8 / nullif(views, 0) AS ctr FROM parsed),
     imputed AS (
       SELECT *, coalesce(ctr, (SELECT avg(ctr) FROM derived)) AS ctr_filled FROM derived)
     SELECT country, count(*), sum(amount), sum(score), min(user_id), max(at), avg(ctr_filled) FROM imputed GROUP BY country`,
  );
});
