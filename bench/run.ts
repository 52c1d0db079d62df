/**
 * `npm run bench [-- --rows N]`: the end-to-end benchmark of issue #2. Generates the deterministic
 * web-traffic CSV, runs a job (adapt all ten fields typed, filter, derive a ratio, drop a column) into
 * PostgreSQL with every stage an isolated process, and in the same run times `psql \copy` of the same
 * file into an equal table: the physical limit. Prints wall times, the ratio, rows/s and each stage's
 * peak RSS, and saves them under bench/results/.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startPostgres } from '../test/support/postgres-server.js';
import { writeTrafficCsv } from './traffic-data.js';

const rowsArg = process.argv.indexOf('--rows');
const ROWS = rowsArg > 0 ? Number(process.argv[rowsArg + 1]) : 1_000_000;
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const RESULTS = resolve('bench/results');

const TABLE_DDL = `(event_id bigint, ts timestamptz, site_id integer, user_id uuid, country char(2), url text,
  views integer, clicks integer, revenue numeric(12,2), user_agent text)`;

function jobYaml(csv: string, url: string): string {
  return `job: bench-traffic
buffer: file://buffer
retries: { attempts: 1 }
extract: { from: csv, path: "${csv}" }
adapt:
  fields:
    event_id: { type: integer, required: true }
    ts: timestamp
    site_id: integer
    user_id: string
    country: string
    url: string
    views: integer
    clicks: integer
    revenue: decimal
    user_agent: string
transform:
  - filter: "views > 0"
  - derive: { ctr: "clicks / views" }
  - drop: [user_agent]
load: { to: postgres, connection: "${url}", table: public.traffic_job, mode: append }
`;
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

async function main(): Promise<void> {
  const dataDir = join(tmpdir(), 'datamill-bench');
  mkdirSync(dataDir, { recursive: true });
  const csv = join(dataDir, `traffic-${ROWS}.csv`);
  if (!existsSync(csv)) {
    process.stderr.write(`generating ${ROWS.toLocaleString()} rows into ${csv}…\n`);
    await writeTrafficCsv(csv, ROWS);
  }
  const bytes = Number(execFileSync('stat', ['-L', '-c', '%s', csv], { encoding: 'utf8' }).trim());
  const server = await startPostgres();
  const work = mkdtempSync(join(tmpdir(), 'datamill-bench-run-'));
  try {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    await client.query(`CREATE TABLE traffic_copy ${TABLE_DDL}`);
    await client.query('CHECKPOINT');

    let t = process.hrtime.bigint();
    const copy = spawnSync('psql', [server.url, '-v', 'ON_ERROR_STOP=1', '-c', `\\copy traffic_copy FROM '${csv}' WITH (FORMAT csv, HEADER true)`], { encoding: 'utf8' });
    if (copy.status !== 0) throw new Error(`psql \\copy failed: ${copy.stderr}`);
    const copySeconds = seconds(t);
    await client.query('CHECKPOINT');

    const jobFile = join(work, 'bench.yaml');
    writeFileSync(jobFile, jobYaml(csv, server.url));
    const env = { ...process.env, DATAMILL_HOME: join(work, 'home') };
    t = process.hrtime.bigint();
    const run = spawnSync(process.execPath, [CLI, 'run', jobFile, '--json'], { cwd: work, env, encoding: 'utf8', maxBuffer: 64 << 20 });
    const jobSeconds = seconds(t);
    if (run.status !== 0) throw new Error(`job failed: ${run.stderr}\n${run.stdout}`);
    const record = JSON.parse(run.stdout) as { id: string; figures: Record<string, number> };
    const show = JSON.parse(execFileSync(process.execPath, [CLI, 'show', record.id, '--json'], { cwd: work, env, encoding: 'utf8' })) as { attempts: Array<{ stage: string; durationMs: number; peakRssBytes: number; cpuSeconds: number; rowsOut: number }> };
    const loaded = Number((await client.query('SELECT count(*) AS n FROM traffic_job')).rows[0].n);
    const copied = Number((await client.query('SELECT count(*) AS n FROM traffic_copy')).rows[0].n);
    await client.end();

    const result = {
      date: new Date().toISOString(),
      node: process.version,
      rows: ROWS,
      input_bytes: bytes,
      psql_copy_seconds: +copySeconds.toFixed(2),
      job_seconds: +jobSeconds.toFixed(2),
      ratio: +(jobSeconds / copySeconds).toFixed(2),
      job_rows_per_second: Math.round(ROWS / jobSeconds),
      rows_copied: copied,
      rows_loaded: loaded,
      stages: show.attempts.map((a) => ({ stage: a.stage, seconds: +(a.durationMs / 1000).toFixed(2), peak_rss_mb: +(a.peakRssBytes / 2 ** 20).toFixed(1), cpu_seconds: +a.cpuSeconds.toFixed(2), rows_out: a.rowsOut })),
    };
    const lines = [
      `rows: ${ROWS.toLocaleString()} (${(bytes / 2 ** 20).toFixed(0)} MiB)`,
      `psql \\copy: ${result.psql_copy_seconds}s (${copied.toLocaleString()} rows)`,
      `datamill job: ${result.job_seconds}s (${loaded.toLocaleString()} rows loaded, ${result.job_rows_per_second.toLocaleString()} input rows/s)`,
      `ratio: ${result.ratio}`,
      ...result.stages.map((s) => `  ${s.stage.padEnd(9)} ${String(s.seconds).padStart(6)}s  peak RSS ${String(s.peak_rss_mb).padStart(6)} MiB  cpu ${s.cpu_seconds}s`),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, `e2e-${ROWS}.json`), JSON.stringify(result, null, 2) + '\n');
  } finally {
    server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
