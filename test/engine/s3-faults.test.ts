import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { testDatabase, type TestDatabase } from '../support/database.js';
import { datamill, workspace } from '../support/cli.js';
import { testBucket, type TestBucket } from '../support/s3-bucket.js';
import { EXPIRED, INTERNAL, SLOW_DOWN, startFaultProxy } from '../support/s3-fault-proxy.js';
import { writeEvents } from './events-fixture.js';
import { expectedSiteStats } from './site-stats-sql.js';
import { s3Job } from './s3-job-fixture.js';

const env = (db: TestDatabase, home: string) => ({ WAREHOUSE_URL: db.url, DATAMILL_HOME: home, BUF_KEY: 'S3RVER', BUF_SECRET: 'S3RVER' });

async function seed(bucket: TestBucket, dir: string) {
  const events = writeEvents(dir, 'events-1.csv', { rows: 800 });
  await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: 'incoming/events-1.csv', Body: readFileSync(events.path) }));
  return events;
}

async function tableExists(db: TestDatabase): Promise<boolean> {
  return (await db.query("SELECT to_regclass('analytics.site_stats') IS NOT NULL AS present"))[0]!.present as boolean;
}

test('a throttled S3 (503 SlowDown, 500) is retried by the client and the run loads every row', async (t) => {
  const db = await testDatabase();
  t.after(() => db.drop());
  const bucket = await testBucket();
  // Every distinct request fails once, alternating throttling and server errors, then passes.
  let n = 0;
  const proxy = await startFaultProxy(bucket.endpoint, (_req, seen) => (seen === 0 ? (n++ % 2 === 0 ? SLOW_DOWN : INTERNAL) : null));
  t.after(() => proxy.close());
  const ws = workspace();
  const events = await seed(bucket, ws.dir);
  const r = await datamill(['run', ws.write('job.yaml', s3Job(bucket, { endpoint: proxy.endpoint }))], { env: env(db, ws.home), cwd: ws.dir });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(proxy.injected >= 20, `faults injected: ${proxy.injected}`);
  const expected = await expectedSiteStats(db, [events.path]);
  assert.deepEqual(await db.query('SELECT day::text, site_id::text, views::text, clicks::text, events::text FROM analytics.site_stats ORDER BY 1, 2'), expected);
});

test('expired credentials on the source fail the run at once with the reason, without retries, loading nothing', async (t) => {
  const db = await testDatabase();
  t.after(() => db.drop());
  const bucket = await testBucket();
  const proxy = await startFaultProxy(bucket.endpoint, () => EXPIRED);
  t.after(() => proxy.close());
  const ws = workspace();
  await seed(bucket, ws.dir);
  // The buffer is healthy; only the source's S3 refuses.
  const job = s3Job(bucket).replace(/(extract:\n(?:.*\n)*?) {2}endpoint: \S+/, `$1  endpoint: ${proxy.endpoint}`);
  const e = env(db, ws.home);
  const r = await datamill(['run', ws.write('job.yaml', job)], { env: e, cwd: ws.dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /failed: extract: cannot list s3:\/\/t-[0-9a-f]+\/incoming\/events-: S3 refused the request: The provided token has expired\. \(ExpiredToken, HTTP 403\)/);
  const show = JSON.parse((await datamill(['show', /run (\S+) failed/.exec(r.stderr)![1]!, '--json'], { env: e, cwd: ws.dir })).stdout) as { attempts: Array<{ stage: string; error: { retryable: boolean } }> };
  assert.deepEqual(show.attempts.map((a) => [a.stage, a.error.retryable]), [['extract', false]], 'one attempt: not retried');
  assert.equal(await tableExists(db), false);
});

test('a buffer in a missing bucket, or with wrong credentials, fails the run before any stage with a clear reason', async (t) => {
  const db = await testDatabase();
  t.after(() => db.drop());
  const bucket = await testBucket();
  const ws = workspace();
  await seed(bucket, ws.dir);
  const e = env(db, ws.home);
  const missing = await datamill(['run', ws.write('missing.yaml', s3Job(bucket).replace(`url: s3://${bucket.name}/datamill`, 'url: s3://no-such-bucket-dm/datamill'))], { env: e, cwd: ws.dir });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot write s3:\/\/no-such-bucket-dm\/datamill\/default\/site-stats\/\S+\/_job\.json: the bucket does not exist \(NoSuchBucket, HTTP 404\)/);
  // s3rver checks the access key id but not v4 signatures, so the wrong credential here is the key id.
  const denied = await datamill(['run', ws.write('denied.yaml', s3Job(bucket))], { env: { ...e, BUF_KEY: 'AKIAWRONGKEY' }, cwd: ws.dir });
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /S3 refused the request: The AWS Access Key Id you provided does not exist in our records\. \(InvalidAccessKeyId, HTTP 403\)/);
  assert.doesNotMatch(denied.stderr, /S3RVER/);
  assert.equal(await tableExists(db), false);
});
