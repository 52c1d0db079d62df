/**
 * `npm run bench:source-postgres [-- --rows N]`: the postgres source's extract stage against `psql \copy
 * (SELECT …) TO file`, at N/4 and N rows, with the stage's peak RSS at both sizes (it must not grow with
 * the table: COPY streams into the buffer part). The job loads into a file so the run is cheap; only the
 * extract stage's figures are reported.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startPostgres } from '../test/support/postgres-server.js';

const rowsArg = process.argv.indexOf('--rows');
const ROWS = rowsArg > 0 ? Number(process.argv[rowsArg + 1]) : 1_000_000;
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

const job = (url: string, table: string) => `job: bench-pg-source-${table.replace(/_/g, '-')}
buffer: file://buffer
retries: { attempts: 1 }
extract: { from: postgres, connection: "${url}", table: ${table}, incremental: { column: id } }
adapt: { fields: { id: integer } }
load: { to: file, path: out.csv }
`;

async function main(): Promise<void> {
  const server = await startPostgres();
  const work = mkdtempSync(join(tmpdir(), 'datamill-bench-pgsrc-'));
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  const results: Array<Record<string, number>> = [];
  try {
    for (const rows of [Math.round(ROWS / 4), ROWS]) {
      const table = `src_${rows}`;
      await client.query(`CREATE TABLE ${table} AS SELECT i AS id, now() - i * interval '1 second' AS at, md5(i::text) AS name, (i % 1000) * 1.25 AS amount, i % 7 = 0 AS flag, repeat('x', 40) AS pad FROM generate_series(1, ${rows}) i`);
      await client.query(`VACUUM ANALYZE ${table}`);
      let t = process.hrtime.bigint();
      const copy = spawnSync('psql', [server.url, '-v', 'ON_ERROR_STOP=1', '-c', `\\copy (SELECT * FROM ${table}) TO '${join(work, 'copy.csv')}' WITH (FORMAT csv, HEADER true)`], { encoding: 'utf8' });
      if (copy.status !== 0) throw new Error(`psql \\copy failed: ${copy.stderr}`);
      const copySeconds = seconds(t);
      const jobFile = join(work, `${table}.yaml`);
      writeFileSync(jobFile, job(server.url, table));
      const env = { ...process.env, DATAMILL_HOME: join(work, 'home') };
      t = process.hrtime.bigint();
      const run = spawnSync(process.execPath, [CLI, 'run', jobFile, '--json'], { cwd: work, env, encoding: 'utf8', maxBuffer: 64 << 20 });
      if (run.status !== 0) throw new Error(`job failed: ${run.stderr}\n${run.stdout}`);
      const id = (JSON.parse(run.stdout) as { id: string }).id;
      const show = JSON.parse(execFileSync(process.execPath, [CLI, 'show', id, '--json'], { cwd: work, env, encoding: 'utf8' })) as { attempts: Array<{ stage: string; durationMs: number; peakRssBytes: number; rowsOut: number }> };
      const extract = show.attempts.find((a) => a.stage === 'extract')!;
      if (extract.rowsOut !== rows) throw new Error(`extract read ${extract.rowsOut} rows, expected ${rows}`);
      const r = { rows, psql_copy_seconds: +copySeconds.toFixed(2), extract_seconds: +(extract.durationMs / 1000).toFixed(2), ratio: +(extract.durationMs / 1000 / copySeconds).toFixed(2), extract_peak_rss_mb: +(extract.peakRssBytes / 2 ** 20).toFixed(1) };
      results.push(r);
      process.stdout.write(`${rows.toLocaleString()} rows: psql \\copy ${r.psql_copy_seconds}s, extract stage ${r.extract_seconds}s (ratio ${r.ratio}), extract peak RSS ${r.extract_peak_rss_mb} MiB\n`);
      rmSync(join(work, 'buffer'), { recursive: true, force: true });
    }
    mkdirSync(resolve('bench/results'), { recursive: true });
    writeFileSync(resolve(`bench/results/source-postgres-${ROWS}.json`), JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2) + '\n');
  } finally {
    await client.end();
    server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
