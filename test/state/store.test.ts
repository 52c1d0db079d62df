import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PostgresStateStore } from '../../src/state/postgres-store.js';
import { SqliteStateStore } from '../../src/state/sqlite-store.js';
import type { RunRecord, StageAttemptRecord, StateStore } from '../../src/state/store.js';
import { datamill, workspace } from '../support/cli.js';
import { testDatabase } from '../support/database.js';

/** One contract, every store (like kysely running each test over every dialect). */
interface StoreKind {
  name: string;
  /** A fresh, empty store; `reopen` opens a second handle on the same state (another process would). */
  fresh(): Promise<{ store: StateStore; reopen(): Promise<StateStore>; drop(): Promise<void> }>;
}

const KINDS: StoreKind[] = [
  {
    name: 'sqlite',
    async fresh() {
      const path = join(workspace().home, 'state.db');
      return { store: new SqliteStateStore(path), reopen: async () => new SqliteStateStore(path), drop: async () => undefined };
    },
  },
  {
    name: 'postgres',
    async fresh() {
      const db = await testDatabase();
      return { store: await PostgresStateStore.open(db.url), reopen: () => PostgresStateStore.open(db.url), drop: () => db.drop() };
    },
  },
];

function aRun(id: string, o: Partial<RunRecord> = {}): RunRecord {
  return {
    id, job: 'orders', tenant: 'shop', status: 'running', trigger: 'manual', jobFile: '/jobs/orders.yaml', buffer: 'file:///b',
    params: { day: '2026-01-01', note: 'ünïcode "quoted"' }, createdAt: `2026-01-01T00:00:0${id.at(-1)}.000Z`, startedAt: '2026-01-01T00:00:00.500Z',
    finishedAt: null, error: null, figures: {}, runner: 'host:1', slot: null, ...o,
  };
}

function anAttempt(runId: string, stage: StageAttemptRecord['stage'], attempt: number, startedAt: string): StageAttemptRecord {
  return {
    runId, stage, attempt, status: 'running', executor: 'process', taskId: '42', startedAt, finishedAt: null, exitCode: null, signal: null, error: null,
    rowsIn: null, rowsOut: null, rowsRejected: null, bytesOut: null, durationMs: null, peakRssBytes: null, cpuSeconds: null,
  };
}

for (const kind of KINDS) {
  const storeTest = (name: string, body: (s: StateStore, reopen: () => Promise<StateStore>) => Promise<void>) =>
    test(`${kind.name} store: ${name}`, async () => {
      const { store, reopen, drop } = await kind.fresh();
      try {
        await body(store, reopen);
      } finally {
        await store.close();
        await drop();
      }
    });

  storeTest('a run round-trips every field, and an update changes only what it names', async (s) => {
    const run = aRun('r1', { slot: '2026-01-01T03:00:00.000Z' });
    await s.createRun(run);
    assert.deepEqual(await s.getRun('r1'), run);
    const error = { stage: 'load' as const, name: 'LoadError', message: 'boom', retryable: true, where: 'analytics.t' };
    await s.updateRun('r1', { status: 'failed', error, figures: { rows_extracted: 3, target: 'x.csv' }, finishedAt: '2026-01-01T00:01:00.000Z' });
    assert.deepEqual(await s.getRun('r1'), { ...run, status: 'failed', error, figures: { rows_extracted: 3, target: 'x.csv' }, finishedAt: '2026-01-01T00:01:00.000Z' });
    await s.updateRun('r1', {});
    assert.equal(await s.getRun('nope'), null);
  });

  storeTest('a run is found by a unique id prefix; an ambiguous one names the matches; % and _ are not wildcards', async (s) => {
    await s.createRun(aRun('20260101T000000Z-aaa1'));
    await s.createRun(aRun('20260101T000000Z-aab2'));
    assert.equal((await s.findRun('20260101T000000Z-aaa'))!.id, '20260101T000000Z-aaa1');
    assert.equal((await s.findRun('20260101T000000Z-aab2'))!.id, '20260101T000000Z-aab2');
    await assert.rejects(s.findRun('20260101T000000Z-aa'), /matches several runs \(20260101T000000Z-aab2, 20260101T000000Z-aaa1\)/);
    assert.equal(await s.findRun('2026%'), null);
    assert.equal(await s.findRun('20260101T000000Z_'), null);
    assert.equal(await s.findRun('zzz'), null);
  });

  storeTest('runs list newest first, filtered by job, tenant and status, up to the limit', async (s) => {
    await s.createRun(aRun('r1'));
    await s.createRun(aRun('r2', { job: 'ledger', tenant: 'bank', status: 'failed' }));
    await s.createRun(aRun('r3', { status: 'succeeded' }));
    await s.createRun(aRun('r4', { status: 'failed' }));
    const ids = async (q: Parameters<StateStore['listRuns']>[0]) => (await s.listRuns(q)).map((r) => r.id);
    assert.deepEqual(await ids({}), ['r4', 'r3', 'r2', 'r1']);
    assert.deepEqual(await ids({ job: 'orders' }), ['r4', 'r3', 'r1']);
    assert.deepEqual(await ids({ tenant: 'bank' }), ['r2']);
    assert.deepEqual(await ids({ status: 'failed' }), ['r4', 'r2']);
    assert.deepEqual(await ids({ job: 'orders', status: 'failed', tenant: 'shop' }), ['r4']);
    assert.deepEqual(await ids({ limit: 2 }), ['r4', 'r3']);
  });

  storeTest('stage attempts are recorded, finished and listed in stage order, with large figures intact', async (s) => {
    await s.createRun(aRun('r1'));
    const t = '2026-01-01T00:00:01.000Z';
    await s.startAttempt(anAttempt('r1', 'load', 1, '2026-01-01T00:00:03.000Z'));
    await s.startAttempt(anAttempt('r1', 'adapt', 1, t));
    await s.startAttempt(anAttempt('r1', 'extract', 1, t));
    await s.startAttempt(anAttempt('r1', 'extract', 2, '2026-01-01T00:00:02.000Z'));
    const error = { stage: 'extract' as const, name: 'SourceError', message: 'gone', retryable: true };
    await s.finishAttempt('r1', 'extract', 1, { status: 'failed', error, exitCode: 75, signal: null, finishedAt: t });
    await s.finishAttempt('r1', 'extract', 2, { status: 'succeeded', rowsIn: 0, rowsOut: 5_000_000_000, bytesOut: 2 ** 40, durationMs: 1234, peakRssBytes: 123_456_789, cpuSeconds: 1.25 });
    const list = await s.listAttempts('r1');
    assert.deepEqual(list.map((a) => `${a.stage}#${a.attempt}:${a.status}`), ['extract#1:failed', 'adapt#1:running', 'extract#2:succeeded', 'load#1:running']);
    assert.deepEqual(list[0]!.error, error);
    assert.equal(list[0]!.exitCode, 75);
    assert.deepEqual(list[2], { ...anAttempt('r1', 'extract', 2, '2026-01-01T00:00:02.000Z'), status: 'succeeded', rowsIn: 0, rowsOut: 5_000_000_000, bytesOut: 2 ** 40, durationMs: 1234, peakRssBytes: 123_456_789, cpuSeconds: 1.25 });
    // Starting the same attempt again (a resumed run) replaces it rather than failing.
    await s.startAttempt({ ...anAttempt('r1', 'load', 1, '2026-01-01T00:00:04.000Z'), taskId: '43' });
    assert.equal((await s.listAttempts('r1')).find((a) => a.stage === 'load')!.taskId, '43');
    assert.deepEqual(await s.listAttempts('other'), []);
  });

  storeTest('cursors are kept per tenant, job and name, and moved forward', async (s) => {
    assert.equal(await s.getCursor('shop', 'orders', 'updated_at'), null);
    await s.setCursor('shop', 'orders', 'updated_at', '2026-01-01', 'r1');
    await s.setCursor('bank', 'orders', 'updated_at', '1999-01-01', 'r9');
    await s.setCursor('shop', 'orders', 'updated_at', '2026-01-02', 'r2');
    assert.equal(await s.getCursor('shop', 'orders', 'updated_at'), '2026-01-02');
    assert.equal(await s.getCursor('bank', 'orders', 'updated_at'), '1999-01-01');
    assert.equal(await s.getCursor('shop', 'orders', 'id'), null);
  });

  storeTest('an incident opens once (only the first opener is told so) and closes once', async (s) => {
    const incident = { tenant: 'shop', job: 'orders', channel: 'slack', openedBy: 'r1', openedAt: '2026-01-01T00:00:00.000Z' };
    assert.equal(await s.openIncident(incident), true);
    assert.equal(await s.openIncident({ ...incident, openedBy: 'r2' }), false);
    assert.equal(await s.openIncident({ ...incident, job: 'ledger' }), true);
    assert.deepEqual(await s.closeIncident('shop', 'orders', 'slack'), incident);
    assert.equal(await s.closeIncident('shop', 'orders', 'slack'), null);
    assert.equal(await s.openIncident({ ...incident, openedBy: 'r3' }), true);
  });

  storeTest('state survives reopening, and two handles opening a new store at once migrate it once', async (s, reopen) => {
    await s.createRun(aRun('r1'));
    const [a, b] = await Promise.all([reopen(), reopen()]);
    try {
      assert.equal((await a.getRun('r1'))!.id, 'r1');
      await b.createRun(aRun('r2'));
      assert.deepEqual((await s.listRuns()).map((r) => r.id), ['r2', 'r1']);
    } finally {
      await a.close();
      await b.close();
    }
  });
}

test('`--state postgres://…` (or DATAMILL_STATE_URL) keeps runs in PostgreSQL instead of SQLite in the home', async () => {
  const db = await testDatabase();
  try {
    const ws = workspace();
    ws.write('orders.csv', 'id,amount\n1,10\n2,20\n');
    const job = ws.write('job.yaml', 'job: orders\nbuffer: file://buf\nextract: { from: csv, path: orders.csv }\nadapt:\n  fields: { id: integer, amount: integer }\nload: { to: file, path: out.csv }\n');
    const run = await datamill(['--state', db.url, 'run', job, '--json'], { env: { DATAMILL_HOME: ws.home }, cwd: ws.dir });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(existsSync(join(ws.home, 'state.db')), false);
    const [row] = await db.query<{ id: string; status: string }>('SELECT id, status FROM runs');
    assert.deepEqual(row, { id: (JSON.parse(run.stdout) as { id: string }).id, status: 'succeeded' });
    const listed = await datamill(['runs', '--json'], { env: { DATAMILL_HOME: ws.home, DATAMILL_STATE_URL: db.url }, cwd: ws.dir });
    assert.equal((JSON.parse(listed.stdout) as Array<{ id: string }>)[0]!.id, row!.id);
    const bad = await datamill(['--state', 'mysql://u:hunter22@h/db', 'runs'], { env: { DATAMILL_HOME: ws.home }, cwd: ws.dir });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /expected a postgres:\/\/… URL/);
    assert.ok(!bad.stderr.includes('hunter22'));
  } finally {
    await db.drop();
  }
});
