import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poolJson } from '../../src/pool/pool-snapshot.js';
import { PoolError, ResourcePool, type PoolLease, type PoolRequest } from '../../src/pool/resource-pool.js';
import { poolCapacity } from '../../src/pool/pool-capacity.js';

const GiB = 1024 ** 3;
const ask = (over: Partial<PoolRequest> = {}): PoolRequest => ({ cpus: 1, memoryBytes: GiB, tenant: 'default', priority: 0, job: 'j', run: 'r', stage: 'extract', ...over });
const flush = () => new Promise((r) => setImmediate(r));

test('tasks start only while their cpus and memory fit; the rest wait and start as others finish', async () => {
  const pool = new ResourcePool({ cpus: 2, memoryBytes: 8 * GiB, quotas: {} });
  const admitted: string[] = [];
  const leases = new Map<string, PoolLease>();
  for (const name of ['a', 'b', 'c', 'd']) void pool.acquire(ask({ stage: name })).then((l) => (admitted.push(name), leases.set(name, l)));
  await flush();
  assert.deepEqual(admitted, ['a', 'b']);
  leases.get('a')!.release();
  await flush();
  assert.deepEqual(admitted, ['a', 'b', 'c']);
  leases.get('b')!.release();
  leases.get('c')!.release();
  await flush();
  assert.deepEqual(admitted, ['a', 'b', 'c', 'd']);
  assert.equal(pool.peakRunning(), 2);
});

test('memory counts as much as cpus: a request that fits in cpus but not in memory waits', async () => {
  const pool = new ResourcePool({ cpus: 8, memoryBytes: 2 * GiB, quotas: {} });
  const first = await pool.acquire(ask({ memoryBytes: 1.5 * GiB }));
  let second = false;
  void pool.acquire(ask({ memoryBytes: GiB })).then(() => (second = true));
  await flush();
  assert.equal(second, false);
  first.release();
  await flush();
  assert.equal(second, true);
});

test('waiting tasks start by priority, then first come first served', async () => {
  const pool = new ResourcePool({ cpus: 1, memoryBytes: 8 * GiB, quotas: {} });
  const blocker = await pool.acquire(ask({ stage: 'blocker' }));
  const order: string[] = [];
  const all = [
    ['low-1', 0], ['high-1', 5], ['low-2', 0], ['high-2', 5], ['mid', 1],
  ].map(([stage, priority]) => pool.acquire(ask({ stage: stage as string, priority: priority as number })).then((l) => (order.push(stage as string), l.release())));
  assert.deepEqual(poolJson(pool).waiting.map((w) => w.stage), ['high-1', 'high-2', 'mid', 'low-1', 'low-2']);
  blocker.release();
  await Promise.all(all);
  assert.deepEqual(order, ['high-1', 'high-2', 'mid', 'low-1', 'low-2']);
});

test("a tenant at its quota waits while other tenants' tasks go ahead", async () => {
  const pool = new ResourcePool({ cpus: 4, memoryBytes: 8 * GiB, quotas: { analytics: { cpus: 1, memoryBytes: 4 * GiB } } });
  const a1 = await pool.acquire(ask({ tenant: 'analytics', stage: 'a1' }));
  const started: string[] = [];
  void pool.acquire(ask({ tenant: 'analytics', stage: 'a2' })).then((l) => (started.push('a2'), l));
  void pool.acquire(ask({ tenant: 'ops', stage: 'o1' })).then(() => started.push('o1'));
  await flush();
  assert.deepEqual(started, ['o1']);
  assert.deepEqual(poolJson(pool).waiting.map((w) => `${w.tenant}/${w.stage}`), ['analytics/a2']);
  a1.release();
  await flush();
  assert.deepEqual(started, ['o1', 'a2']);
});

test('a task that can never fit is refused at once with a PoolError saying what the pool has', async () => {
  const pool = new ResourcePool({ cpus: 2, memoryBytes: 4 * GiB, quotas: { small: { cpus: 1, memoryBytes: GiB } } });
  await assert.rejects(pool.acquire(ask({ cpus: 3, job: 'big-job', stage: 'transform' })), (err: unknown) => {
    assert.ok(err instanceof PoolError);
    assert.match(err.message, /big-job\/transform .* asks for 3 cpus .* the whole pool has 2 cpus and 4\.0 GiB: it can never start/);
    assert.equal(err.retryable, false);
    return true;
  });
  await assert.rejects(pool.acquire(ask({ memoryBytes: 8 * GiB })), /can never start/);
  await assert.rejects(pool.acquire(ask({ tenant: 'small', cpus: 2 })), /tenant small's quota is 1 cpus and 1\.0 GiB: it can never start/);
  assert.equal(poolJson(pool).waiting.length, 0, 'nothing was queued');
});

test('a waiting request cancelled by its AbortSignal never starts, and does not hold back the queue', async () => {
  const pool = new ResourcePool({ cpus: 1, memoryBytes: 8 * GiB, quotas: {} });
  const blocker = await pool.acquire(ask());
  const abort = new AbortController();
  const cancelled = pool.acquire(ask({ stage: 'cancelled', priority: 9 }), abort.signal);
  const next = pool.acquire(ask({ stage: 'next' }));
  abort.abort();
  await assert.rejects(cancelled, /cancelled while waiting for the pool/);
  assert.deepEqual(poolJson(pool).waiting.map((w) => w.stage), ['next']);
  blocker.release();
  const lease = await next;
  assert.deepEqual(poolJson(pool).running.map((r) => r.stage), ['next']);
  lease.release();
  assert.ok(pool.events.some((e) => e.type === 'cancel'));
  assert.equal(pool.events.filter((e) => e.type === 'admit').length, 2);
});

test('the snapshot lists running and waiting tasks with tenant, job, run, stage and since', async () => {
  const pool = new ResourcePool({ cpus: 1, memoryBytes: 8 * GiB, quotas: {} });
  await pool.acquire(ask({ tenant: 't1', job: 'site-stats', run: 'R1', stage: 'load' }));
  void pool.acquire(ask({ tenant: 't2', job: 'other', run: 'R2', stage: 'adapt', memoryBytes: 2 * GiB }));
  const view = poolJson(pool);
  assert.deepEqual(view.inUse, { cpus: 1, memoryBytes: GiB });
  assert.deepEqual(view.running.map(({ since: _s, ...t }) => t), [{ state: 'running', tenant: 't1', job: 'site-stats', run: 'R1', stage: 'load', cpus: 1, memoryBytes: GiB, priority: 0 }]);
  assert.deepEqual(view.waiting.map((t) => [t.tenant, t.job, t.run, t.stage, t.memoryBytes]), [['t2', 'other', 'R2', 'adapt', 2 * GiB]]);
  assert.ok(!Number.isNaN(Date.parse(view.waiting[0]!.since)));
  assert.doesNotThrow(() => JSON.parse(JSON.stringify(view)));
});

test('capacity defaults to this machine and takes cpus, memory and tenant quotas as text', () => {
  const own = poolCapacity();
  assert.ok(own.cpus >= 1 && own.memoryBytes > 0);
  assert.deepEqual(poolCapacity({ cpus: '2.5', memory: '6Gi', quotas: 'analytics=1:2Gi, adhoc=0.5:512Mi' }), {
    cpus: 2.5, memoryBytes: 6 * GiB, quotas: { analytics: { cpus: 1, memoryBytes: 2 * GiB }, adhoc: { cpus: 0.5, memoryBytes: 512 * 1024 ** 2 } },
  });
  assert.throws(() => poolCapacity({ cpus: 'many' }), /pool cpus many: expected a number of cpus above 0/);
  assert.throws(() => poolCapacity({ memory: 'lots' }), /pool memory lots: expected a size like 4Gi/);
  assert.throws(() => poolCapacity({ quotas: 'analytics:2' }), /pool quota "analytics:2": expected TENANT=CPUS:MEMORY/);
});
