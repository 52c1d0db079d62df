import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabase, type TestDatabase } from '../support/database.js';
import { datamill, workspace } from '../support/cli.js';

/** A postgres → postgres job that copies new and changed orders by updated_at, appending (so a duplicate would show). */
function ordersJob(extra = ''): string {
  return `job: orders-sync
retries: { attempts: 1, backoff: 50ms }
extract:
  from: postgres
  connection: "\${env:SOURCE_URL}"
  query: SELECT id, customer, amount, updated_at FROM shop.orders;
  incremental: { column: updated_at }
adapt:
  fields:
    id: { type: integer, required: true }
    customer: string
    amount: decimal
    updated_at: timestamp
load:
  to: postgres
  connection: "\${env:WAREHOUSE_URL}"
  table: mart.orders
  mode: append
${extra}`;
}

async function addOrders(db: TestDatabase, from: number, to: number): Promise<void> {
  await db.query(`INSERT INTO shop.orders SELECT i, 'customer ' || i, i * 1.5, timestamptz '2026-01-01 00:00:00.123456+00' + i * interval '1 minute' FROM generate_series($1::int, $2::int) AS i`, [from, to]);
}

async function loadedIds(db: TestDatabase): Promise<number[]> {
  return (await db.query<{ id: number }>('SELECT o.id::int AS id FROM mart.orders AS o ORDER BY o.id')).map((r) => r.id);
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

async function setup(t: { after(fn: () => Promise<void>): void }) {
  const db = await testDatabase();
  t.after(() => db.drop());
  await db.query('CREATE SCHEMA shop');
  await db.query('CREATE TABLE shop.orders (id int PRIMARY KEY, customer text, amount numeric(10,2), updated_at timestamptz NOT NULL)');
  const ws = workspace();
  const job = ws.write('orders.yaml', ordersJob());
  const env = { SOURCE_URL: db.url, WAREHOUSE_URL: db.url, DATAMILL_HOME: ws.home };
  const run = async (extraEnv: Record<string, string> = {}) => datamill(['run', job], { env: { ...env, ...extraEnv }, cwd: ws.dir });
  return { db, ws, job, env, run };
}

test('incremental postgres extract: a second run loads only the rows added since the first', async (t) => {
  const { db, run } = await setup(t);
  await addOrders(db, 1, 100);
  const first = await run();
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /100 rows extracted/);
  assert.deepEqual(await loadedIds(db), range(1, 100));

  await addOrders(db, 101, 130);
  await db.query(`UPDATE shop.orders SET amount = 0, updated_at = timestamptz '2026-02-01 00:00:00+00' WHERE id = 7`);
  const second = await run();
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /31 rows extracted/);
  const ids = await loadedIds(db);
  assert.equal(ids.length, 131, 'each new row once, and the changed row 7 appended again');
  assert.deepEqual(await db.query(`SELECT amount::text FROM mart.orders WHERE id = 7 ORDER BY updated_at`), [{ amount: '10.50' }, { amount: '0.00' }]);

  const third = await run();
  assert.equal(third.code, 0, third.stderr);
  assert.match(third.stdout, /0 rows extracted/);
  assert.equal((await loadedIds(db)).length, 131);
});

test('a run whose load fails does not move the mark, and the next run loads its rows', async (t) => {
  const { db, run, ws, env } = await setup(t);
  await addOrders(db, 1, 50);
  assert.equal((await run()).code, 0);
  await addOrders(db, 51, 80);

  const failed = await run({ DATAMILL_FAULT: 'load:before-commit:1' });
  assert.equal(failed.code, 1, 'the load was killed before its commit and retries are off');
  assert.deepEqual(await loadedIds(db), range(1, 50), 'nothing of the failed run was loaded');

  await addOrders(db, 81, 90);
  const next = await run();
  assert.equal(next.code, 0, next.stderr);
  assert.match(next.stdout, /40 rows extracted/);
  assert.deepEqual(await loadedIds(db), range(1, 90), 'every row once: none skipped, none twice');

  const runs = JSON.parse((await datamill(['runs', '--json'], { env, cwd: ws.dir })).stdout) as Array<{ status: string }>;
  assert.deepEqual(runs.map((r) => r.status), ['succeeded', 'failed', 'succeeded']);
});

test('a replayed extract reads the same range as the run did, and does not move the mark', async (t) => {
  const { db, run, ws, env } = await setup(t);
  await addOrders(db, 1, 20);
  const first = await run();
  assert.equal(first.code, 0, first.stderr);
  const id = /run (\S+) succeeded/.exec(first.stdout)![1]!;
  await addOrders(db, 21, 25);

  const replay = await datamill(['replay', id, '--stage', 'extract'], { env, cwd: ws.dir });
  assert.equal(replay.code, 0, replay.stderr);
  const show = JSON.parse((await datamill(['show', id, '--json'], { env, cwd: ws.dir })).stdout) as { attempts: Array<{ stage: string; attempt: number; rowsOut: number }> };
  assert.deepEqual(show.attempts.filter((a) => a.stage === 'extract').map((a) => [a.attempt, a.rowsOut]), [[1, 20], [2, 20]], 'the replay read rows 1-20 again, not 21-25');
  assert.deepEqual(await loadedIds(db), range(1, 20), 'the replayed load of an already loaded run is a no-op');

  const next = await run();
  assert.equal(next.code, 0, next.stderr);
  assert.match(next.stdout, /5 rows extracted/);
  assert.deepEqual(await loadedIds(db), range(1, 25));

  // Replaying the old run's load again must not set the mark back to the end of its range.
  const old = await datamill(['replay', id, '--stage', 'load'], { env, cwd: ws.dir });
  assert.equal(old.code, 0, old.stderr);
  const after = await run();
  assert.equal(after.code, 0, after.stderr);
  assert.match(after.stdout, /0 rows extracted/, 'the mark stayed at row 25');
  assert.deepEqual(await loadedIds(db), range(1, 25));
});

test('an incremental column the query does not have fails the extract naming the setting', async (t) => {
  const { db, ws, env } = await setup(t);
  await addOrders(db, 1, 3);
  const job = ws.write('bad.yaml', ordersJob().replace('column: updated_at', 'column: changed_at'));
  const r = await datamill(['run', job], { env, cwd: ws.dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /extract: extract from extract\.query on 127\.0\.0\.1:\d+\/t_\w+ failed: column "changed_at" does not exist \(SQLSTATE 42703\); extract\.incremental\.column must be a column of the query's output/);
});
