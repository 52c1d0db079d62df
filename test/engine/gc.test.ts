import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, utimesSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StageBuffer } from '../../src/buffer/buffer.js';
import { openBuffer } from '../../src/buffer/open-buffer.js';
import { runnerId } from '../../src/runtime/orphans.js';
import { SqliteStateStore } from '../../src/state/sqlite-store.js';
import type { RunRecord } from '../../src/state/store.js';
import { datamill, workspace } from '../support/cli.js';
import { testBucket } from '../support/s3-bucket.js';

/** A buffered run as the runtime leaves it: the job spec it ran with and one committed stage. */
async function bufferRun(buffer: StageBuffer, job: string, run: string, retention?: string): Promise<void> {
  const ref = { tenant: 'default', job, run };
  await buffer.putRunFile(ref, '_job.json', JSON.stringify({ job, ...(retention ? { retention } : {}) }));
  const w = await buffer.begin({ ...ref, stage: 'extract' }, 1);
  const p = w.part('part-00000.csv');
  await p.write('a\n1\n');
  await w.commit({ ...ref, stage: 'extract', attempt: 1, format: 'csv', parts: [await p.close(1)], figures: {} });
}

function touchTree(dir: string, daysAgo: number): void {
  const t = new Date(Date.now() - daysAgo * 86_400_000);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) touchTree(join(dir, e.name), daysAgo);
    utimesSync(join(dir, e.name), t, t);
  }
  utimesSync(dir, t, t);
}

function record(id: string, buffer: string, status: RunRecord['status']): RunRecord {
  const now = new Date().toISOString();
  return { id, job: 'orders', tenant: 'default', status, trigger: 'manual', jobFile: '/nowhere/job.yaml', buffer, params: {}, createdAt: now, startedAt: now, finishedAt: null, error: null, figures: {}, runner: runnerId(), slot: null };
}

test('datamill gc removes runs past their retention from S3 and file buffers, never a running run, and --dry-run removes nothing', async () => {
  const ws = workspace();
  const bucket = await testBucket();
  const s3Url = bucket.bufferUrl('dm');
  const s3 = openBuffer(s3Url, ws.dir);
  const root = mkdtempSync(join(tmpdir(), 'gc-buffer-'));
  const file = openBuffer(`file://${root}`, ws.dir);
  await bufferRun(s3, 'orders', 'r-short', '1ms');
  await bufferRun(s3, 'orders', 'r-week');
  await bufferRun(s3, 'orders', 'r-running', '1ms');
  await bufferRun(file, 'orders', 'f-8-days-old');
  await bufferRun(file, 'orders', 'f-6-days-old');
  touchTree(join(root, 'default/orders/f-8-days-old'), 8);
  touchTree(join(root, 'default/orders/f-6-days-old'), 6);
  // The store knows the S3 buffer from its runs; the file buffer is named on the command line.
  const store = new SqliteStateStore(join(ws.home, 'state.db'));
  await store.createRun(record('r-running', s3Url, 'running'));
  await store.createRun(record('r-week', s3Url, 'succeeded'));
  await store.close();
  const env = { DATAMILL_HOME: ws.home };
  const s3Runs = async () => [...new Set((await bucket.keys('dm/')).map((k) => k.split('/')[3]))].sort();

  const dry = await datamill(['gc', '--dry-run', '--buffer', `file://${root}`], { env, cwd: ws.dir });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /would remove +s3:\/\/t-[0-9a-f]+\/dm\/default\/orders\/r-short/);
  assert.match(dry.stdout, /would remove +file:\/\/.*\/default\/orders\/f-8-days-old/);
  assert.match(dry.stdout, /kept: running +s3:.*r-running/);
  assert.match(dry.stdout, /would remove 2 of 5 buffered run\(s\)/);
  assert.deepEqual(await s3Runs(), ['r-running', 'r-short', 'r-week']);
  assert.ok(existsSync(join(root, 'default/orders/f-8-days-old')));

  const gc = await datamill(['gc', '--buffer', `file://${root}`], { env, cwd: ws.dir });
  assert.equal(gc.code, 0, gc.stderr);
  assert.match(gc.stdout, /removed 2 of 5 buffered run\(s\)/);
  assert.deepEqual(await s3Runs(), ['r-running', 'r-week']);
  assert.deepEqual(readdirSync(join(root, 'default/orders')), ['f-6-days-old']);

  const all = await datamill(['gc', '--older-than', '1ms', '--json', '--buffer', `file://${root}`], { env, cwd: ws.dir });
  assert.equal(all.code, 0, all.stderr);
  const entries = JSON.parse(all.stdout) as Array<{ run: string; action: string }>;
  assert.deepEqual(entries.map((e) => `${e.run}: ${e.action}`).sort(), ['f-6-days-old: removed', 'r-running: kept: running', 'r-week: removed']);
  assert.deepEqual(await s3Runs(), ['r-running']);
});
