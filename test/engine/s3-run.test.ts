import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { testDatabase, type TestDatabase } from '../support/database.js';
import { datamill, workspace } from '../support/cli.js';
import { testBucket } from '../support/s3-bucket.js';
import { writeEvents } from './events-fixture.js';
import { s3Job } from './s3-job-fixture.js';
import { expectedSiteStats } from './site-stats-sql.js';

async function actual(db: TestDatabase) {
  return db.query(`SELECT day::text, site_id::text, views::text, clicks::text, events::text FROM analytics.site_stats ORDER BY 1, 2`);
}

test('a job whose every stage reads and writes S3 loads PostgreSQL, with each stage committed in the bucket and no secret on a command line or in a log', async (t) => {
  const db = await testDatabase();
  t.after(() => db.drop());
  const bucket = await testBucket();
  const ws = workspace();
  const files = [writeEvents(ws.dir, 'events-1.csv', { rows: 2000, start: 1, bad: 3 }), writeEvents(ws.dir, 'events-2.csv', { rows: 1500, start: 10_000 })];
  for (const f of files) await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: `incoming/${f.path.split('/').pop()}`, Body: readFileSync(f.path) }));
  const job = ws.write('job.yaml', s3Job(bucket));
  // The standard chain holds wrong keys: only the job's references can make this run work.
  const env = { WAREHOUSE_URL: db.url, DATAMILL_HOME: ws.home, BUF_KEY: 'S3RVER', BUF_SECRET: 'S3RVER', AWS_ACCESS_KEY_ID: 'WRONG', AWS_SECRET_ACCESS_KEY: 'WRONG' };

  const r = await datamill(['run', job], { env, cwd: ws.dir });
  assert.equal(r.code, 0, r.stderr);
  const expected = await expectedSiteStats(db, files.map((f) => f.path));
  assert.deepEqual(await actual(db), expected);
  assert.equal(existsSync(join(ws.dir, '.datamill/buffer')), false, 'nothing buffered on local disk');

  const runId = /run (\S+) succeeded/.exec(r.stdout)![1]!;
  const run = `datamill/default/site-stats/${runId}/`;
  const keys = (await bucket.keys(run)).map((k) => k.slice(run.length));
  for (const stage of ['extract', 'adapt', 'transform', 'load']) assert.ok(keys.includes(`${stage}/_manifest.json`), `${stage} committed in S3: ${keys.join(', ')}`);
  assert.ok(keys.includes('_job.json'));
  const extract = JSON.parse(await bucket.text(`${run}extract/_manifest.json`)) as { parts: Array<{ name: string; origin: string; bytes: number }> };
  assert.deepEqual(extract.parts.map((p) => p.origin), [`s3://${bucket.name}/incoming/events-1.csv`, `s3://${bucket.name}/incoming/events-2.csv`]);
  assert.equal(await bucket.text(`${run}extract/${extract.parts[0]!.name}`), readFileSync(files[0]!.path, 'utf8'), 'the extract part is a byte-exact snapshot');
  const adapt = JSON.parse(await bucket.text(`${run}adapt/_manifest.json`)) as { rejects: { rows: number; parts: Array<{ name: string }> } };
  assert.equal(adapt.rejects.rows, 3);
  assert.match(await bucket.text(`${run}adapt/_rejects/${adapt.rejects.parts[0]!.name}`), /views: 'twelve' is not an integer/);

  const runs = JSON.parse((await datamill(['runs', '--json'], { env, cwd: ws.dir })).stdout) as Array<{ buffer: string }>;
  assert.match(runs[0]!.buffer, /^s3:\/\/t-[0-9a-f]+\/datamill\?endpoint=/);
  assert.doesNotMatch(runs[0]!.buffer, /S3RVER/, 'the recorded buffer (and so every stage command line) holds references, not keys');
  const logs = (await datamill(['logs', runId], { env, cwd: ws.dir })).stdout;
  assert.ok(logs.length > 0);
  assert.doesNotMatch(logs, /S3RVER/);

  const replay = await datamill(['replay', runId, '--stage', 'transform'], { env, cwd: ws.dir });
  assert.equal(replay.code, 0, replay.stderr);
  assert.deepEqual(await actual(db), expected, 'a replay on the S3 buffer changes nothing');
  const transform = JSON.parse(await bucket.text(`${run}transform/_manifest.json`)) as { attempt: number; parts: Array<{ name: string }> };
  assert.equal(transform.attempt, 2);
  const stageKeys = (await bucket.keys(`${run}transform/`)).map((k) => k.slice(`${run}transform/`.length)).sort();
  assert.deepEqual(stageKeys, ['_manifest.json', ...transform.parts.map((p) => p.name)].sort(), 'the replaced output left nothing behind');
});
