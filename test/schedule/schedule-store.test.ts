import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { workspace } from '../support/cli.js';
import { testDatabase } from '../support/database.js';
import { PostgresScheduleStore } from '../../src/schedule/postgres-schedule-store.js';
import type { FireRecord, ScheduleStore } from '../../src/schedule/schedule-store.js';
import { SqliteScheduleStore } from '../../src/schedule/sqlite-schedule-store.js';

const STORES: Array<{ name: string; open(): Promise<{ store: ScheduleStore; second(): Promise<ScheduleStore>; done(): Promise<void> }> }> = [
  {
    name: 'sqlite',
    async open() {
      const path = join(workspace().home, 'state.db');
      return { store: new SqliteScheduleStore(path), second: async () => new SqliteScheduleStore(path), done: async () => undefined };
    },
  },
  {
    name: 'postgres',
    async open() {
      const db = await testDatabase();
      return { store: await PostgresScheduleStore.open(db.url), second: () => PostgresScheduleStore.open(db.url), done: () => db.drop() };
    },
  },
];

const fire = (job: string, slot: string, extra: Partial<FireRecord> = {}): FireRecord => ({ job, slot, status: 'fired', runId: null, firedAt: slot, origin: 'schedule', reason: null, resumes: 0, ...extra });

for (const { name, open } of STORES) {
  test(`${name}: a slot is claimed once, even by two schedulers racing for it`, async () => {
    const { store, second, done } = await open();
    const other = await second();
    const slots = Array.from({ length: 50 }, (_, i) => fire(`job-${i % 5}`, new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString()));
    const [a, b] = await Promise.all([store.claimFires(slots), other.claimFires(slots)]);
    assert.equal(a.length + b.length, 50);
    const again = await store.claimFires(slots.slice(0, 3));
    assert.deepEqual(again, []);
    assert.equal((await store.listFires()).length, 50);
    await other.close();
    await store.close();
    await done();
  });

  test(`${name}: fires are updated, read back and listed by job, status and period`, async () => {
    const { store, done } = await open();
    await store.claimFires([fire('a', '2026-01-01T00:00:00.000Z'), fire('a', '2026-01-02T00:00:00.000Z'), fire('b', '2026-01-01T00:00:00.000Z', { status: 'skipped', reason: 'missed' })]);
    await store.updateFire('a', '2026-01-01T00:00:00.000Z', { status: 'succeeded', runId: 'r1' });
    assert.deepEqual(await store.getFire('a', '2026-01-01T00:00:00.000Z'), fire('a', '2026-01-01T00:00:00.000Z', { status: 'succeeded', runId: 'r1' }));
    assert.equal(await store.getFire('a', '2027-01-01T00:00:00.000Z'), null);
    assert.deepEqual((await store.listFires({ job: 'a', newestFirst: true, limit: 1 })).map((f) => f.slot), ['2026-01-02T00:00:00.000Z']);
    assert.deepEqual((await store.listFires({ statuses: ['skipped'] })).map((f) => [f.job, f.reason]), [['b', 'missed']]);
    assert.deepEqual((await store.listFires({ from: '2026-01-01T12:00:00.000Z' })).map((f) => f.slot), ['2026-01-02T00:00:00.000Z']);
    assert.deepEqual((await store.listFires({ to: '2026-01-01T00:00:00.000Z' })).map((f) => f.job), ['a', 'b']);
    await store.close();
    await done();
  });

  test(`${name}: pause and first-seen times survive reopening the store`, async () => {
    const { store, second, done } = await open();
    await store.setPaused('a', true);
    await store.setPaused('a', true);
    await store.setPaused('b', true);
    await store.setPaused('b', false);
    assert.equal(await store.registerJob('a', '2026-01-01T00:00:00.000Z'), '2026-01-01T00:00:00.000Z');
    assert.equal(await store.registerJob('a', '2026-02-01T00:00:00.000Z'), '2026-01-01T00:00:00.000Z');
    await store.close();
    const reopened = await second();
    assert.deepEqual([...(await reopened.pausedJobs())], ['a']);
    await reopened.close();
    await done();
  });

  test(`${name}: one holder leads; another takes over only after the lease expires or is released`, async () => {
    const { store, done } = await open();
    assert.equal(await store.acquireLease('scheduler', 'one', 60_000), true);
    assert.equal(await store.acquireLease('scheduler', 'two', 60_000), false);
    assert.equal(await store.acquireLease('scheduler', 'one', 60_000), true);
    await store.releaseLease('scheduler', 'one');
    assert.equal(await store.acquireLease('scheduler', 'two', 1), true);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await store.acquireLease('scheduler', 'one', 60_000), true);
    assert.equal(await store.acquireLease('scheduler', 'two', 60_000), false);
    await store.close();
    await done();
  });
}
