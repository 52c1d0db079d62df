import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { config as redshiftConfig } from '../../adapters/redshift/index.js';
import { dataApiSession } from '../../adapters/redshift/data-api.js';
import { LoadError } from '../../src/core/errors.js';
import type { Row, Schema } from '../../src/core/schema.js';
import { testStageContext } from '../support/stage-context.js';
import { harness, MODES } from './redshift-harness.js';
import { bufferedInput } from './typed-input.js';

const here = dirname(fileURLToPath(import.meta.url));
const distRoot = join(here, '..', '..');
const STATS: Schema = [
  { name: 'day', type: 'date' },
  { name: 'site_id', type: 'integer' },
  { name: 'views', type: 'integer' },
];

/** Runs one load in a child process, as a stage process would; resolves with how it ended. */
function loadInChild(job: Record<string, unknown>, env: Record<string, string>): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const url = (p: string) => JSON.stringify(pathToFileURL(join(distRoot, p)).href);
  const script = `
    import { config, createSink } from ${url('adapters/redshift/index.js')};
    import { copyFromS3, testS3Client } from ${url('test/support/redshift-data-standin/copy-from-s3.js')};
    import { openTypedInput } from ${url('test/adapters/typed-input.js')};
    import { testStageContext } from ${url('test/support/stage-context.js')};
    const job = JSON.parse(process.env.CHILD_JOB);
    const input = await openTypedInput(job.root, job.ref);
    const ctx = testStageContext({ stage: 'load', run: job.run, attempt: job.attempt });
    const s3 = testS3Client();
    const copy = job.mode === 'pg-wire' ? (client, plan) => copyFromS3(client, plan, s3, job.dbUrl) : undefined;
    const result = await createSink(config.parse(job.spec), { copy }).load(ctx, input);
    process.stdout.write(JSON.stringify(result));
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...env, CHILD_JOB: JSON.stringify(job) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

for (const mode of MODES) {
  test(`[${mode}] a load killed between its COPY and the commit is retried without duplicates`, async (t) => {
    const h = await harness(mode, t);
    await h.load(STATS, [['2026-01-01', 1, 1]], {}, { run: 'run-0' });
    const rows: Row[] = Array.from({ length: 500 }, (_, i) => ['2026-01-02', i, i * 2]);
    const buffered = await bufferedInput(STATS, rows, { run: 'run-1', partRows: 200 });
    t.after(() => buffered.cleanup());
    const job = (attempt: number) => ({ root: buffered.root, ref: buffered.ref, run: 'run-1', attempt, mode, dbUrl: h.db.url, spec: h.spec() });

    const killed = await loadInChild(job(1), { DATAMILL_FAULT: 'load:before-commit:1' });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    // Over the wire protocol the dead connection rolls back; through the Data API the submitted batch
    // goes on and commits on the cluster by itself. Either way the retry must not add the rows again.
    await h.standin?.idle();
    const expectedAfterCrash = mode === 'pg-wire' ? 1 : 501;
    assert.deepEqual(await h.db.query(`SELECT count(*)::int AS n FROM analytics.stats`), [{ n: expectedAfterCrash }]);

    const retried = await loadInChild(job(2), { DATAMILL_FAULT: 'load:before-commit:1' });
    assert.equal(retried.code, 0, retried.stderr);
    const result = JSON.parse(retried.stdout) as { rowsLoaded: number; alreadyLoaded?: boolean };
    assert.equal(result.rowsLoaded, 500);
    assert.equal(result.alreadyLoaded, mode === 'pg-wire' ? undefined : true);
    assert.deepEqual(await h.db.query(`SELECT count(*)::int AS n, count(DISTINCT site_id)::int AS d FROM analytics.stats WHERE day = '2026-01-02'`), [{ n: 500, d: 500 }]);
    assert.deepEqual(await h.db.query(`SELECT run_id, rows::int FROM datamill.loads ORDER BY run_id`), [{ run_id: 'run-0', rows: 1 }, { run_id: 'run-1', rows: 500 }]);
  });

  test(`[${mode}] concurrent attempts of one run load its rows once`, async (t) => {
    const h = await harness(mode, t);
    await h.load(STATS, [['2026-01-01', 0, 0]], {}, { run: 'run-0' });
    const rows: Row[] = Array.from({ length: 100 }, (_, i) => ['2026-01-01', i + 1, i]);
    const results = await Promise.all([h.load(STATS, rows, {}, { run: 'run-1' }), h.load(STATS, rows, {}, { run: 'run-1' })]);
    assert.deepEqual(results.map((r) => r.result.alreadyLoaded === true).sort(), [false, true]);
    assert.deepEqual(await h.db.query(`SELECT count(*)::int AS n FROM analytics.stats`), [{ n: 101 }]);
  });
}

test('[data-api] a statement running past statement_timeout is cancelled with CancelStatement and the error is retryable', async (t) => {
  const h = await harness('data-api', t);
  const config = redshiftConfig.parse(h.spec()).data_api!;
  const ctx = testStageContext({ stage: 'load' });
  const session = dataApiSession(config, ctx, 300);
  await assert.rejects(session.query('SELECT pg_sleep(30)'), (err: unknown) => {
    assert.ok(err instanceof LoadError);
    assert.equal(err.retryable, true);
    assert.match(err.message, /ran longer than load\.statement_timeout \(300 ms\) and was cancelled/);
    return true;
  });
  await h.standin!.idle();
  const sent = h.standin!.statements.at(-1)!;
  assert.equal(sent.status, 'ABORTED');
  assert.match(sent.error ?? '', /cancel/i);
  await session.close();
});

test('[data-api] a statement the cluster rejects fails with its message, naming the cluster and database', async (t) => {
  const h = await harness('data-api', t);
  const config = redshiftConfig.parse(h.spec()).data_api!;
  const session = dataApiSession(config, testStageContext({ stage: 'load' }), 10_000);
  await assert.rejects(session.query('SELECT * FROM no_such_table'), /relation "no_such_table" does not exist/);
  assert.deepEqual(await session.query(`SELECT 1::bigint AS one, 'x' AS s, NULL AS n, true AS b, 0.5::float8 AS f`), [{ one: '1', s: 'x', n: null, b: 'true', f: '0.5' }]);
  await session.close();
  const wrong = dataApiSession({ ...config, endpoint: 'http://127.0.0.1:1' }, testStageContext({ stage: 'load' }), 10_000);
  await assert.rejects(wrong.query('SELECT 1'), (err: unknown) => {
    assert.ok(err instanceof LoadError);
    assert.match(err.message, /Redshift Data API ExecuteStatement on cluster test-cluster\/t_\w+ \(Data API\) failed/);
    assert.equal(err.retryable, true);
    return true;
  });
});
