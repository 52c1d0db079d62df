/**
 * `npm run bench:scheduler [-- --jobs 1000 --minutes 3 --spread --profile DIR]`: a real `datamill serve`
 * process on its SQLite home with JOBS job files that all fire every minute, for MINUTES minutes on the wall
 * clock: by default all at second 0 (`* * * * *`: every minute a burst of JOBS fires at one instant); with
 * --spread job i fires at second i mod 60 (`S * * * * *`: JOBS/60 fires each second). Its stages are no-ops
 * (DATAMILL_BENCH_NOOP_STAGES=1, a benchmark-only setting): each run does everything a real one does
 * except its stage processes (fire record, run record, spec to the buffer, pool, attempt records, log),
 * so the figures are the scheduler's own. Measures:
 *  - lateness of each slot's fire record (fired_at − slot) and of its run's first stage start (the extract
 *    attempt's started_at − slot), p50/p99/max over every run;
 *  - the serve process's CPU while idle between bursts (utime+stime from /proc/<pid>/stat, from one
 *    second after a slot's last run ended to one second before the next slot), as % of one core.
 * Prints the figures and saves them under bench/results/.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';

const flag = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const JOBS = flag('jobs', 1000);
const MINUTES = flag('minutes', 3);
const SPREAD = process.argv.includes('--spread');
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
};
const summary = (xs: number[]) => ({ count: xs.length, p50_ms: pct(xs, 50), p99_ms: pct(xs, 99), max_ms: Math.max(...xs) });

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

const dir = mkdtempSync(join(tmpdir(), 'datamill-bench-scheduler-'));
const jobs = join(dir, 'jobs');
mkdirSync(jobs);
writeFileSync(join(jobs, 'one.csv'), 'id\n1\n');
for (let i = 0; i < JOBS; i++) {
  const name = `tick-${String(i).padStart(4, '0')}`;
  writeFileSync(join(jobs, `${name}.yaml`), `job: ${name}
schedule: { cron: "${SPREAD ? `${i % 60} * * * * *` : '* * * * *'}" }
buffer: file://.datamill/buffer
extract: { from: csv, path: one.csv }
adapt: { fields: { id: integer } }
load: { to: file, path: out/${name}.csv }
`);
}

const env: NodeJS.ProcessEnv = { ...process.env, DATAMILL_HOME: join(dir, '.datamill'), DATAMILL_BENCH_NOOP_STAGES: '1' };
delete env.DATAMILL_STATE_URL;
delete env.DATAMILL_CLOCK;
// --profile DIR: a V8 cpu profile of the serve process, written when it exits.
const profile = process.argv.indexOf('--profile') > 0 ? ['--cpu-prof', '--cpu-prof-dir', resolve(process.argv[process.argv.indexOf('--profile') + 1]!)] : [];
const serve = spawn(process.execPath, [...profile, CLI, 'serve', '--jobs', 'jobs', '--port', '0'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
let log = '';
serve.stderr!.on('data', (d: Buffer) => (log += d.toString()));
const exited = new Promise<number | null>((done) => serve.once('exit', (code) => done(code)));
const pid = serve.pid!;

for (const end = Date.now() + 120_000; !/api listening/.test(log); await sleep(100)) {
  if (Date.now() > end || serve.exitCode !== null) throw new Error(`datamill serve did not start:\n${log}`);
}
if (!log.includes(`serving ${JOBS} jobs`)) throw new Error(`datamill serve did not load the ${JOBS} jobs:\n${log.slice(0, 4000)}`);
// Slots after the start only: the first whole minute after the server is up, then MINUTES of them.
const firstSlot = Math.ceil((Date.now() + 1000) / 60_000) * 60_000;
const lastSlot = firstSlot + (MINUTES - 1) * 60_000;
console.log(`serve (pid ${pid}) up with ${JOBS} jobs; slots ${new Date(firstSlot).toISOString()} … ${new Date(lastSlot).toISOString()}`);
const samples: Array<{ at: number; cpu: number }> = [];
while (Date.now() < lastSlot + (SPREAD ? 65_000 : 50_000)) {
  samples.push({ at: Date.now(), cpu: cpuSeconds(pid) });
  await sleep(1000 - (Date.now() % 1000));
}
serve.kill('SIGTERM');
const code = await exited;

const db = new Database(join(dir, '.datamill', 'state.db'), { readonly: true });
const range = [new Date(firstSlot).toISOString(), new Date(lastSlot + 59_999).toISOString()];
const fires = db.prepare('SELECT slot, fired_at, status FROM schedule_fires WHERE slot BETWEEN ? AND ?').all(...range) as Array<{ slot: string; fired_at: string; status: string }>;
const runs = db.prepare(`SELECT r.slot, r.status, r.finished_at, a.started_at FROM runs r JOIN stage_attempts a ON a.run_id = r.id AND a.stage = 'extract' AND a.attempt = 1
  WHERE r.slot BETWEEN ? AND ?`).all(...range) as Array<{ slot: string; status: string; finished_at: string | null; started_at: string }>;
db.close();

const fireLateness = fires.map((f) => Date.parse(f.fired_at) - Date.parse(f.slot));
const stageLateness = runs.map((r) => Date.parse(r.started_at) - Date.parse(r.slot));
const perSlot = [];
for (let slot = firstSlot; slot <= lastSlot; slot += 60_000) {
  const key = new Date(slot).toISOString();
  const inMinute = (s: string) => Date.parse(s) >= slot && Date.parse(s) < slot + 60_000;
  const mine = runs.filter((r) => inMinute(r.slot));
  const lastEnd = Math.max(...mine.map((r) => Date.parse(r.finished_at ?? r.started_at)));
  // Idle: from a second after this slot's last run ended to a second before the next slot.
  const from = samples.find((s) => s.at >= lastEnd + 1000);
  const to = [...samples].reverse().find((s) => s.at <= slot + 59_000);
  const idle = !SPREAD && from && to && to.at - from.at >= 10_000 ? { seconds: (to.at - from.at) / 1000, cpu_percent_of_one_core: (100 * (to.cpu - from.cpu)) / ((to.at - from.at) / 1000) } : null;
  perSlot.push({
    minute: key,
    fires: fires.filter((f) => inMinute(f.slot)).length,
    runs_succeeded: mine.filter((r) => r.status === 'succeeded').length,
    first_stage_lateness: summary(mine.map((r) => Date.parse(r.started_at) - Date.parse(r.slot))),
    ...(SPREAD ? {} : { burst_ms: lastEnd - slot }),
    idle_after: idle,
  });
}
const idles = perSlot.flatMap((p) => (p.idle_after ? [p.idle_after] : []));
const result = {
  at: new Date().toISOString(),
  jobs: JOBS,
  minutes: MINUTES,
  schedules: SPREAD ? 'job i at second i mod 60 of every minute' : 'all at second 0 of every minute',
  machine: `${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} at the end`,
  serve_exit_code: code,
  fires_expected: JOBS * MINUTES,
  fires_recorded: fires.length,
  runs_started: runs.length,
  runs_succeeded: runs.filter((r) => r.status === 'succeeded').length,
  fire_lateness: summary(fireLateness),
  first_stage_lateness: summary(stageLateness),
  idle_cpu_percent_of_one_core: idles.length ? Math.max(...idles.map((i) => i.cpu_percent_of_one_core)) : null,
  mean_cpu_percent_of_one_core: (100 * (samples.at(-1)!.cpu - samples[0]!.cpu)) / ((samples.at(-1)!.at - samples[0]!.at) / 1000),
  per_slot: perSlot,
};
console.log(`${JOBS} jobs firing every minute (${result.schedules}), ${MINUTES} minutes, no-op stages:`);
console.log(`  fires recorded        ${result.fires_recorded} of ${result.fires_expected}; runs started ${result.runs_started}, succeeded ${result.runs_succeeded}`);
console.log(`  fire lateness         p50 ${result.fire_lateness.p50_ms} ms   p99 ${result.fire_lateness.p99_ms} ms   max ${result.fire_lateness.max_ms} ms`);
console.log(`  first stage lateness  p50 ${result.first_stage_lateness.p50_ms} ms   p99 ${result.first_stage_lateness.p99_ms} ms   max ${result.first_stage_lateness.max_ms} ms`);
for (const p of perSlot) console.log(`  minute ${p.minute}: ${p.fires} fires, first stage p99 ${p.first_stage_lateness.p99_ms} ms${p.burst_ms === undefined ? '' : `, burst ${p.burst_ms} ms`}, idle cpu ${p.idle_after ? `${p.idle_after.cpu_percent_of_one_core.toFixed(2)}% over ${p.idle_after.seconds.toFixed(0)} s` : 'n/a'}`);
console.log(`  cpu of the serve process: ${result.mean_cpu_percent_of_one_core.toFixed(2)}% of one core on average${result.idle_cpu_percent_of_one_core === null ? '' : `, ${result.idle_cpu_percent_of_one_core.toFixed(2)}% idle between bursts (worst minute)`}`);
mkdirSync(resolve('bench/results'), { recursive: true });
writeFileSync(resolve(`bench/results/scheduler-${JOBS}${SPREAD ? '-spread' : ''}.json`), JSON.stringify(result, null, 2) + '\n');
rmSync(dir, { recursive: true, force: true });
if (code !== 0) {
  console.error(`serve exited with ${code}:\n${log.slice(-4000)}`);
  process.exitCode = 1;
}
