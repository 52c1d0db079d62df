import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { FileBuffer } from '../../src/buffer/file-buffer.js';
import type { StageRef } from '../../src/buffer/manifest.js';
import { RAW_READER_LOADERS } from '../../adapters/loaders.js';
import { DatamillError, SourceError } from '../../src/core/errors.js';
import * as s3 from '../../adapters/s3/index.js';
import { globToRegExp } from '../../adapters/s3/key-glob.js';
import { testStageContext } from '../support/stage-context.js';
import { testBucket, type TestBucket } from '../support/s3-bucket.js';

async function put(bucket: TestBucket, key: string, body: string | Buffer): Promise<void> {
  await bucket.client.send(new PutObjectCommand({ Bucket: bucket.name, Key: key, Body: body }));
}

/** Extracts with the s3 source into a real buffer, then reads the parts back with the format's reader. */
async function extract(bucket: TestBucket, config: Record<string, unknown>) {
  const parsed = s3.config.parse({ from: 's3', endpoint: bucket.endpoint, ...config });
  const dir = mkdtempSync(join(tmpdir(), 'datamill-s3-src-'));
  const buffer = new FileBuffer(`file://${dir}`, dir);
  const ctx = testStageContext({ baseDir: dir });
  const ref: StageRef = { tenant: ctx.tenant, job: ctx.job, run: ctx.run, stage: 'extract' };
  const writer = await buffer.begin(ref, 1);
  const result = await s3.createSource(parsed).extract(ctx, writer);
  const manifest = await writer.commit({ tenant: ref.tenant, job: ref.job, run: ref.run, stage: 'extract', attempt: 1, format: result.format, ...(result.csv ? { csv: result.csv } : {}), parts: result.parts, figures: {} });
  const records: unknown[] = [];
  const origins = new Set<string>();
  for await (const batch of (await RAW_READER_LOADERS[result.format]()).read(manifest, (p) => buffer.openPart(ref, p), testStageContext({ stage: 'adapt' }))) {
    records.push(...batch.records);
    origins.add(batch.origin);
  }
  return { manifest, records, origins: [...origins], progress: ctx.rows };
}

test('csv objects matched by a glob are extracted in key order, gzipped ones included, others left alone', async () => {
  const bucket = await testBucket();
  await put(bucket, 'exports/2026/events-01.csv', 'id,name\n1,ana\n2,"Smith, J"\n');
  await put(bucket, 'exports/2026/events-02.csv.gz', gzipSync('id,name\n3,bo\n'));
  await put(bucket, 'exports/2026/other.csv', 'id,name\n99,no\n');
  await put(bucket, 'exports/2025/events-01.csv', 'id,name\n98,no\n');
  const got = await extract(bucket, { url: `s3://${bucket.name}/exports/2026/events-*.csv*`, format: 'csv' });
  assert.deepEqual(got.records, [['1', 'ana'], ['2', 'Smith, J'], ['3', 'bo']]);
  assert.deepEqual(got.origins, [`s3://${bucket.name}/exports/2026/events-01.csv`, `s3://${bucket.name}/exports/2026/events-02.csv.gz`]);
  assert.deepEqual(got.manifest.parts.map((p) => [p.name, p.rows, p.compression ?? 'none']), [['part-00000.csv', 2, 'none'], ['part-00001.csv.gz', 1, 'gzip']]);
  assert.equal(got.progress, 3);
});

test('ndjson objects under a prefix are all read; a gzipped object without .gz is recognised by its bytes', async () => {
  const bucket = await testBucket();
  await put(bucket, 'logs/a.ndjson', '{"n":1}\n{"n":2}\n');
  await put(bucket, 'logs/sub/b.log', gzipSync('{"n":3}\n'));
  await put(bucket, 'logs/', '');
  await put(bucket, 'logsX/c.ndjson', '{"n":99}\n');
  const got = await extract(bucket, { url: `s3://${bucket.name}/logs`, format: 'ndjson' });
  assert.deepEqual(got.records, [{ n: 1 }, { n: 2 }, { n: 3 }]);
  assert.equal(got.manifest.parts[1]!.compression, 'gzip');
});

test('a url naming one object reads only that object, not others sharing its prefix', async () => {
  const bucket = await testBucket();
  await put(bucket, 'd/events.csv', 'id\n1\n');
  await put(bucket, 'd/events.csv.bak', 'id\n2\n');
  const got = await extract(bucket, { url: `s3://${bucket.name}/d/events.csv`, format: 'csv' });
  assert.deepEqual(got.records, [['1']]);
});

test('no matching object, a missing bucket and refused credentials are clear errors that are not retried', async () => {
  const bucket = await testBucket();
  await put(bucket, 'd/a.csv', 'id\n1\n');
  await assert.rejects(extract(bucket, { url: `s3://${bucket.name}/d/*.ndjson`, format: 'ndjson' }), (err: DatamillError) => {
    assert.ok(err instanceof SourceError);
    assert.equal(err.retryable, false);
    assert.match(err.message, /no object matches s3:\/\/t-[0-9a-f]+\/d\/\*\.ndjson/);
    return true;
  });
  await assert.rejects(extract(bucket, { url: 's3://no-such-bucket-here/d/', format: 'csv' }), (err: DatamillError) => {
    assert.ok(err instanceof SourceError);
    assert.equal(err.retryable, false);
    assert.match(err.message, /cannot list s3:\/\/no-such-bucket-here\/d\/: the bucket does not exist \(NoSuchBucket, HTTP 404\)/);
    return true;
  });
  process.env.DM_TEST_WRONG_SECRET = 'not-the-secret';
  await assert.rejects(extract(bucket, { url: `s3://${bucket.name}/d/a.csv`, format: 'csv', access_key_id: 'WRONGKEY', secret_access_key: '${env:DM_TEST_WRONG_SECRET}' }), (err: DatamillError) => {
    assert.ok(err instanceof SourceError);
    assert.equal(err.retryable, false);
    assert.match(err.message, /S3 refused the request/);
    assert.doesNotMatch(err.message, /not-the-secret/);
    return true;
  });
});

test('a secret key written as a value instead of a reference is refused by validation', () => {
  const r = s3.config.safeParse({ from: 's3', url: 's3://bucket/x', format: 'csv', access_key_id: 'AKIA', secret_access_key: 'plain-secret' });
  assert.equal(r.success, false);
  assert.match(JSON.stringify(r.error!.issues), /must be a \$\{env:NAME\} or \$\{file:PATH\} reference/);
});

test('key globs: * and ? stop at /, ** crosses it, classes and alternatives work', () => {
  const cases: Array<[string, string, boolean]> = [
    ['a/*.csv', 'a/x.csv', true], ['a/*.csv', 'a/b/x.csv', false], ['a/**/*.csv', 'a/x.csv', true], ['a/**/*.csv', 'a/b/c/x.csv', true],
    ['a/?.csv', 'a/1.csv', true], ['a/?.csv', 'a/12.csv', false], ['a/[0-9].csv', 'a/7.csv', true], ['a/[!0-9].csv', 'a/7.csv', false],
    ['a/x.{csv,tsv}', 'a/x.tsv', true], ['a/x.{csv,tsv}', 'a/x.json', false], ['a.b/*', 'aXb/c', false],
  ];
  for (const [glob, key, expected] of cases) assert.equal(globToRegExp(glob).test(key), expected, `${glob} ~ ${key}`);
});
