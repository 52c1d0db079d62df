import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { testDatabase } from '../support/database.js';
import { datamill, workspace } from '../support/cli.js';
import { repoRoot } from '../support/paths.js';
import { freshBucket, testS3Client } from '../support/redshift-data-standin/copy-from-s3.js';
import { startRedshiftDataStandin } from '../support/redshift-data-standin/server.js';

function job(bucket: string, database: string): string {
  return `job: counts
extract: { from: csv, path: data.csv }
adapt:
  fields: { site: string, n: string }
load:
  to: redshift
  table: public.counts
  data_api: { cluster_identifier: warehouse, database: ${database}, db_user: loader, endpoint: "\${env:REDSHIFT_DATA_ENDPOINT}", region: us-east-1, poll: 20ms }
  staging: s3://${bucket}/staging
  s3: { endpoint: "\${env:DATAMILL_TEST_S3_ENDPOINT}", path_style: true }
  iam_role: arn:aws:iam::123456789012:role/datamill-copy
  slices: 2
`;
}

test('a job loading Redshift through the Data API fails on a bad value with the STL_LOAD_ERRORS row kept as a reject, then loads the fixed input', async (t) => {
  const db = await testDatabase();
  const s3 = testS3Client();
  const standin = await startRedshiftDataStandin({ databaseUrl: db.url, s3 });
  t.after(async () => {
    await standin.stop();
    await db.drop();
  });
  await db.query(`CREATE TABLE public.counts (site varchar(100), n integer)`);
  const ws = workspace();
  ws.write('data.csv', 'site,n\na,1\nb,2\nc,lots\n');
  const path = ws.write('job.yaml', job(await freshBucket(s3), db.name));
  const env = { DATAMILL_HOME: ws.home, REDSHIFT_DATA_ENDPOINT: standin.endpoint };

  const failed = await datamill(['run', path], { env, cwd: ws.dir });
  assert.notEqual(failed.code, 0);
  assert.match(failed.stdout + failed.stderr, /bad row in STL_LOAD_ERRORS: part-0000\d\.csv\.gz line \d, column n/);
  assert.deepEqual(await db.query(`SELECT count(*)::int AS n FROM public.counts`), [{ n: 0 }]);
  const [run] = JSON.parse((await datamill(['runs', '--json'], { env, cwd: ws.dir })).stdout) as Array<{ id: string; status: string }>;
  assert.equal(run!.status, 'failed');
  const dir = join(ws.dir, '.datamill/buffer/default/counts', run!.id, 'load/_rejects');
  const rejects = readdirSync(dir).flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n')).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(rejects.length, 1);
  assert.equal(rejects[0]!.field, 'n');
  assert.equal(rejects[0]!.value, 'lots');
  assert.equal(rejects[0]!.record, '"c","lots"');

  ws.write('data.csv', 'site,n\na,1\nb,2\nc,3\n');
  const ok = await datamill(['run', path], { env, cwd: ws.dir });
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.deepEqual(await db.query(`SELECT site, n FROM public.counts ORDER BY site`), [{ site: 'a', n: 1 }, { site: 'b', n: 2 }, { site: 'c', n: 3 }]);
});

test('the Redshift example job validates', async () => {
  const r = await datamill(['validate', join(repoRoot(), 'jobs/examples/site-stats-redshift.yaml')]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
});
