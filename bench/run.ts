/**
 * `npm run bench [-- --rows N] [--repeat R] [--executor docker]`: the end-to-end benchmark of issue #2.
 * Generates the deterministic web-traffic CSV, runs a job (adapt all ten fields typed, filter, derive a
 * ratio, drop a column) into PostgreSQL with every stage an isolated process (or, with `--executor docker`,
 * every stage in a container of the project's image, on a private dockerd: bench/docker-engine.ts), and
 * in the same run times `psql \copy` of the same file into an equal table: the physical limit. Prints
 * wall times, the ratio, rows/s and each stage's peak RSS, and saves them under bench/results/.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startPostgres } from '../test/support/postgres-server.js';
import { writeTrafficCsv } from './traffic-data.js';
import { startBenchS3, type BenchS3 } from './s3-buffer.js';
import { benchEngine, type BenchEngine } from './docker-engine.js';

const rowsArg = process.argv.indexOf('--rows');
const ROWS = rowsArg > 0 ? Number(process.argv[rowsArg + 1]) : 1_000_000;
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const RESULTS = resolve('bench/results');
const repeatArg = process.argv.indexOf('--repeat');
const REPEAT = repeatArg > 0 ? Number(process.argv[repeatArg + 1]) : 3;
const bufferArg = process.argv.indexOf('--buffer');
/** `--buffer s3`: each round also runs the job with its buffer on s3rver. */
const S3_BUFFER = bufferArg > 0 && process.argv[bufferArg + 1] === 's3';
const executorArg = process.argv.indexOf('--executor');
const EXECUTOR = executorArg > 0 ? process.argv[executorArg + 1]! : 'process';
if (EXECUTOR !== 'process' && EXECUTOR !== 'docker') throw new Error(`--executor ${EXECUTOR}: expected process or docker`);

interface Round {
  psql_copy_seconds: number;
  job_seconds: number;
  ratio: number;
  stages: Array<{ stage: string; seconds: number; peak_rss_mb: number; cpu_seconds: number }>;
  /** With --buffer s3: the same job with its buffer on s3rver. */
  s3?: { job_seconds: number; ratio: number; stages: Round['stages'] };
}

const TABLE_DDL = `(event_id bigint, ts timestamptz, site_id integer, user_id uuid, country char(2), url text,
  views integer, clicks integer, revenue numeric(12,2), user_agent text)`;

function jobYaml(csv: string, url: string, buffer = 'buffer: file://buffer', table = 'traffic_job', image: string | null = null): string {
  return `job: bench-traffic
${image ? `executor: docker\nimage: ${image}\n` : ''}${buffer}
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
load: { to: postgres, connection: "${url}", table: public.${table}, mode: append }
`;
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

/** Runs one job file through the CLI and returns its wall time, each stage's figures and the rows loaded. */
async function timeJob(jobFile: string, work: string, env: NodeJS.ProcessEnv, client: pg.Client, table: string): Promise<{ seconds: number; stages: Round['stages'] }> {
  const t = process.hrtime.bigint();
  const run = spawnSync(process.execPath, [CLI, 'run', jobFile, '--json'], { cwd: work, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const jobSeconds = seconds(t);
  if (run.status !== 0) throw new Error(`job failed: ${run.stderr}\n${run.stdout}`);
  const record = JSON.parse(run.stdout) as { id: string };
  const show = JSON.parse(execFileSync(process.execPath, [CLI, 'show', record.id, '--json'], { cwd: work, env, encoding: 'utf8' })) as { attempts: Array<{ stage: string; durationMs: number; peakRssBytes: number; cpuSeconds: number; rowsOut: number }> };
  const loaded = Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
  if (loaded !== ROWS) throw new Error(`expected ${ROWS} rows, the job loaded ${loaded} into ${table}`);
  const stages = show.attempts.map((a) => ({ stage: a.stage, seconds: +(a.durationMs / 1000).toFixed(2), peak_rss_mb: +(a.peakRssBytes / 2 ** 20).toFixed(1), cpu_seconds: +a.cpuSeconds.toFixed(2) }));
  return { seconds: jobSeconds, stages };
}

/** The S3-buffer figures of the median round (by its own ratio), beside the file buffer's. */
function s3Summary(rounds: Round[]): string[] {
  const on = rounds.filter((r) => r.s3).sort((a, b) => a.s3!.ratio - b.s3!.ratio);
  const median = on[Math.floor(on.length / 2)]!;
  return [
    `buffer on s3rver (median round by its ratio): copy ${median.psql_copy_seconds}s, job ${median.s3!.job_seconds}s, ratio ${median.s3!.ratio} (min ${on[0]!.s3!.ratio}, max ${on[on.length - 1]!.s3!.ratio}); file buffer in the same round: ratio ${median.ratio}`,
    ...median.s3!.stages.map((s) => `  ${s.stage.padEnd(9)} ${String(s.seconds).padStart(6)}s  peak RSS ${String(s.peak_rss_mb).padStart(6)} MiB  cpu ${s.cpu_seconds}s`),
  ];
}

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
  const s3: BenchS3 | null = S3_BUFFER ? await startBenchS3() : null;
  const docker: BenchEngine | null = EXECUTOR === 'docker' ? await benchEngine() : null;
  // The containers' unprivileged user reads the job folder (mkdtemp makes it 0700).
  if (docker) chmodSync(work, 0o755);
  try {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    const jobFile = join(work, 'bench.yaml');
    writeFileSync(jobFile, jobYaml(csv, server.url, undefined, undefined, docker?.image ?? null));
    const env = { ...process.env, DATAMILL_HOME: join(work, 'home'), ...(docker ? { DOCKER_HOST: docker.host } : {}) };
    const rounds: Round[] = [];
    // Alternate copy and job, several rounds: a shared 2-core machine is noisy, the median is not.
    for (let round = 1; round <= REPEAT; round++) {
      await client.query(`DROP TABLE IF EXISTS traffic_copy, traffic_job; DROP SCHEMA IF EXISTS datamill CASCADE; CREATE TABLE traffic_copy ${TABLE_DDL}`);
      await client.query('CHECKPOINT');
      // Start every round with no dirty pages: the last round's buffer (~600 MB) being written back
      // would slow whichever side runs next.
      rmSync(join(work, 'buffer'), { recursive: true, force: true });
      execFileSync('sync');
      let t = process.hrtime.bigint();
      const copy = spawnSync('psql', [server.url, '-v', 'ON_ERROR_STOP=1', '-c', `\\copy traffic_copy FROM '${csv}' WITH (FORMAT csv, HEADER true)`], { encoding: 'utf8' });
      if (copy.status !== 0) throw new Error(`psql \\copy failed: ${copy.stderr}`);
      const copySeconds = seconds(t);
      await client.query('CHECKPOINT');
      const job = await timeJob(jobFile, work, env, client, 'traffic_job');
      const copied = Number((await client.query('SELECT count(*) AS n FROM traffic_copy')).rows[0].n);
      if (copied !== ROWS) throw new Error(`expected ${ROWS} rows, copy loaded ${copied}`);
      const jobSeconds = job.seconds;
      rounds.push({
        psql_copy_seconds: +copySeconds.toFixed(2),
        job_seconds: +jobSeconds.toFixed(2),
        ratio: +(jobSeconds / copySeconds).toFixed(2),
        stages: job.stages,
      });
      if (s3) {
        await client.query('DROP TABLE IF EXISTS traffic_s3; DROP SCHEMA IF EXISTS datamill CASCADE; CHECKPOINT');
        execFileSync('sync');
        const s3File = join(work, 'bench-s3.yaml');
        writeFileSync(s3File, jobYaml(csv, server.url, s3.bufferYaml(`round-${round}`), 'traffic_s3'));
        const onS3 = await timeJob(s3File, work, { ...env, ...s3.env }, client, 'traffic_s3');
        rounds[rounds.length - 1]!.s3 = { job_seconds: +onS3.seconds.toFixed(2), ratio: +(onS3.seconds / copySeconds).toFixed(2), stages: onS3.stages };
        await s3.clear(`round-${round}`);
        process.stderr.write(`round ${round}: job with the buffer on s3rver ${onS3.seconds.toFixed(2)}s, ratio ${(onS3.seconds / copySeconds).toFixed(2)}\n`);
      }
      process.stderr.write(`round ${round}: copy ${copySeconds.toFixed(2)}s, job ${jobSeconds.toFixed(2)}s, ratio ${(jobSeconds / copySeconds).toFixed(2)}\n`);
    }
    await client.end();
    const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)]!;
    const result = {
      date: new Date().toISOString(),
      node: process.version,
      rows: ROWS,
      executor: EXECUTOR,
      input_bytes: bytes,
      rounds: rounds.length,
      ratio_median: median.ratio,
      ratio_min: Math.min(...rounds.map((r) => r.ratio)),
      ratio_max: Math.max(...rounds.map((r) => r.ratio)),
      job_rows_per_second: Math.round(ROWS / median.job_seconds),
      max_stage_peak_rss_mb: Math.max(...rounds.flatMap((r) => r.stages.map((s) => s.peak_rss_mb))),
      median_round: median,
      all_rounds: rounds,
    };
    const lines = [
      `rows: ${ROWS.toLocaleString()} (${(bytes / 2 ** 20).toFixed(0)} MiB), ${rounds.length} rounds; the median round:`,
      `psql \\copy: ${median.psql_copy_seconds}s`,
      `datamill job: ${median.job_seconds}s (${result.job_rows_per_second.toLocaleString()} input rows/s, every stage ${docker ? 'in its own container' : 'its own process'})`,
      `ratio: ${median.ratio} (min ${result.ratio_min}, max ${result.ratio_max})`,
      ...median.stages.map((s) => `  ${s.stage.padEnd(9)} ${String(s.seconds).padStart(6)}s  peak RSS ${String(s.peak_rss_mb).padStart(6)} MiB  cpu ${s.cpu_seconds}s`),
      `highest stage peak RSS in any round: ${result.max_stage_peak_rss_mb} MiB`,
      ...(s3 ? s3Summary(rounds) : []),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, `e2e-${docker ? 'docker-' : ''}${s3 ? 's3-' : ''}${ROWS}.json`), JSON.stringify(result, null, 2) + '\n');
  } finally {
    server.stop();
    s3?.stop();
    await docker?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
