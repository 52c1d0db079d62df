import { existsSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import winston from 'winston';
import type { Command } from 'commander';
import { SpecError } from '../core/errors.js';
import { createLogger } from '../log/logger.js';
import { startApi, loadTenantTokens, type ApiServer } from '../api/server.js';
import { slackNotifier } from '../notify/slack-notifier.js';
import { executorForJob } from '../runtime/executors.js';
import { NoopStageExecutor } from '../runtime/noop-executor.js';
import type { StateStore } from '../state/store.js';
import { clockFromEnv } from '../schedule/clock.js';
import { openScheduleStore } from '../schedule/open-schedule-store.js';
import { checkDependencies, jobFilesIn, loadJobFolder, loadScheduledJob, type ScheduledJob } from '../schedule/scheduled-job.js';
import { loadJobFile } from '../spec/load-job.js';
import { formatProblem } from '../spec/problems.js';
import { parseDuration } from '../spec/units.js';
import { backfillPlan, runBackfill } from '../serve/backfill.js';
import { DatamillServer } from '../serve/server.js';
import { withPoolOptions, standalonePool, type PoolFlags } from './container-commands.js';
import { homeDir, openStore, stateUrl } from './home.js';

const print = (s: string) => process.stdout.write(s + '\n');

function durationOption(name: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === null) throw new SpecError(`--${name} ${text}: expected a duration such as 30s, 2m or 1h`);
  return ms;
}

function timeOption(name: string, text: string): number {
  const t = Date.parse(text);
  if (!Number.isFinite(t)) throw new SpecError(`--${name} ${text}: expected an ISO-8601 time such as 2026-01-01T00:00:00Z`);
  return t;
}

function portOption(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new SpecError(`--port ${text}: expected a port number from 0 to 65535 (0 picks a free one)`);
  return n;
}

/**
 * Stage Jobs a killed predecessor left on the cluster are deleted at start (only the next server can);
 * only when a job here runs on Kubernetes, so a laptop never needs a kubeconfig.
 */
async function reapClusterOrphans(server: DatamillServer, store: StateStore, log: winston.Logger): Promise<void> {
  if (![...server.scheduler.jobs.values()].some((j) => j.loaded.spec.executor === 'kubernetes')) return;
  try {
    const { reapOrphanStageJobs } = await import('../runtime/kubernetes/index.js');
    const reaped = await reapOrphanStageJobs({ store });
    if (reaped.length) log.info(`deleted ${reaped.length} stage Jobs left by a stopped server: ${reaped.join(', ')}`);
  } catch (err) {
    log.warn(`could not look for orphan stage Jobs on the cluster: ${(err as Error).message}`);
  }
}

/** A job for backfill: a job file, or a job name found in --jobs DIR. */
function findJob(ref: string, jobsDir: string | undefined): ScheduledJob {
  if (existsSync(ref) && statSync(ref).isFile()) {
    const { job, problems } = loadScheduledJob(ref, ref);
    if (!job) throw new SpecError(`${ref}: ${problems.length} problem(s)\n${problems.map((p) => '  ' + formatProblem(p)).join('\n')}`);
    return job;
  }
  if (!jobsDir) throw new SpecError(`${ref}: no such job file (give a job file, or a job name with --jobs DIR)`);
  const { jobs } = loadJobFolder(jobsDir);
  const job = jobs.find((j) => j.name === ref);
  if (!job) throw new SpecError(`no job named '${ref}' in ${jobsDir} (jobs: ${jobs.map((j) => j.name).join(', ') || 'none'})`);
  return job;
}

/**
 * What `validate` checks beyond each file: schedules (cron fields, zones, intervals) and, for folders,
 * `after:` across the folder's files (unknown parents, cycles, duplicate names).
 */
export function validateTargets(targets: string[]): { files: string[]; folderProblems: string[] } {
  const files: string[] = [];
  const folderProblems: string[] = [];
  for (const t of targets) {
    const isDir = existsSync(t) && statSync(t).isDirectory();
    const inTarget = isDir ? jobFilesIn(t).map((p) => relative(process.cwd(), p) || p) : [t];
    files.push(...inTarget);
    const loaded = inTarget.map((f) => loadScheduledJob(f, f));
    // Files that fail to load are reported by the per-file check already; only schedule problems are new here.
    folderProblems.push(...loaded.flatMap((l, i) => (l.job || !loadJobFile(inTarget[i]!).job ? [] : l.problems)).map(formatProblem));
    if (isDir) folderProblems.push(...checkDependencies(loaded.flatMap((l) => (l.job ? [l.job] : []))).problems.map(formatProblem));
  }
  return { files, folderProblems };
}

export function addServeCommands(program: Command, setCode: (code: number) => void): void {
  withPoolOptions(
    program
      .command('serve')
      .description('run the scheduler, the runtime and the HTTP API on a watched folder of job files until stopped (SIGTERM/SIGINT)')
      .requiredOption('--jobs <dir>', 'folder of job files (watched: changes take effect without a restart)')
      .option('--port <port>', 'HTTP API port (0 picks a free one; default: $DATAMILL_PORT or 8080)')
      .option('--host <host>', 'HTTP API address (default: 127.0.0.1; with --tokens, 0.0.0.0)')
      .option('--tokens <file>', 'bearer tokens file, each token scoped to a tenant (docs/api.md); without it the API is unauthenticated on loopback only')
      .option('--grace <duration>', 'on SIGTERM, how long running stages may take to finish before they are cancelled', '30s')
      .option('--lease-ttl <duration>', 'leader lease: a dead leader is replaced after this long', '10s')
      .option('--public-url <url>', 'base URL of the web UI, for links in notifications (default: $DATAMILL_PUBLIC_URL)'),
  ).action(async (o: PoolFlags & { jobs: string; port?: string; host?: string; tokens?: string; grace: string; leaseTtl: string; publicUrl?: string }) => {
    if (!existsSync(o.jobs) || !statSync(o.jobs).isDirectory()) throw new SpecError(`--jobs ${o.jobs}: no such folder`);
    const graceMs = durationOption('grace', o.grace);
    const leaseTtlMs = durationOption('lease-ttl', o.leaseTtl);
    const port = portOption(o.port ?? process.env.DATAMILL_PORT ?? '8080');
    const tokens = o.tokens ? await loadTenantTokens(o.tokens) : null;
    const home = homeDir(program.opts().home);
    const log = createLogger({ job: '-', run: '-' }, [new winston.transports.Stream({ stream: process.stderr })]);
    // The global --state (commander gives it to the program even when written after `serve`).
    const state = stateUrl(program.opts<{ state?: string }>().state);
    const store = await openStore(home, state);
    const fires = await openScheduleStore(home, state);
    const pool = standalonePool(o);
    const publicUrl = o.publicUrl ?? (process.env.DATAMILL_PUBLIC_URL || undefined);
    // Benchmark-only (bench/scheduler.ts): stages that succeed at once, to measure the scheduler alone.
    const noopStages = process.env.DATAMILL_BENCH_NOOP_STAGES === '1';
    if (noopStages) log.warn('DATAMILL_BENCH_NOOP_STAGES=1: every stage succeeds without running (a benchmark setting; never for real jobs)');
    const server = new DatamillServer({
      jobsDir: resolve(o.jobs), home, store, fires, pool, executor: (spec) => executorForJob(spec, pool, noopStages ? new NoopStageExecutor() : undefined), clock: clockFromEnv(process.env.DATAMILL_CLOCK), log, leaseTtlMs,
      runOptions: { onRunEnd: slackNotifier({ store, home, ...(publicUrl ? { publicUrl } : {}) }) },
    });
    const stopped = new Promise<string>((done) => {
      process.once('SIGTERM', () => done('SIGTERM'));
      process.once('SIGINT', () => done('SIGINT'));
    });
    await server.start();
    await reapClusterOrphans(server, store, log);
    let api: ApiServer;
    try {
      api = await startApi({ control: server, store, home, port, ...(o.host ? { host: o.host } : {}), tokens, notice: (m) => log.warn(`api: ${m}`) });
    } catch (err) {
      await server.stop(0);
      await fires.close();
      await store.close();
      const code = (err as NodeJS.ErrnoException).code;
      throw new SpecError(`the HTTP API cannot listen on port ${port}${code === 'EADDRINUSE' ? ': the port is in use (pass --port 0 for a free one, or another port)' : `: ${(err as Error).message}`}`);
    }
    log.info(`api listening on ${api.url}`, { api: api.url });
    const signal = await stopped;
    log.info(`${signal}: no new fires; running stages have ${o.grace} to finish`);
    await api.close();
    await server.stop(graceMs);
    await fires.close();
    await store.close();
    log.info('stopped');
    await new Promise<void>((done) => log.on('finish', () => done()).end());
    setCode(0);
  });

  withPoolOptions(program
    .command('backfill <job>')
    .description('list, then run, the slots a job\'s schedule would have fired in a period (recorded as fires: serve will not fire them again)')
    .requiredOption('--from <time>', 'first slot time (ISO-8601), inclusive')
    .requiredOption('--to <time>', 'last slot time (ISO-8601), inclusive')
    .option('--jobs <dir>', 'find JOB by name in this folder (otherwise JOB is a job file)')
    .option('--dry-run', 'only list the slots')
    .option('--json', 'print the slots (and runs) as JSON'))
    .action(async (ref: string, o: PoolFlags & { from: string; to: string; jobs?: string; dryRun?: boolean; json?: boolean }) => {
      const job = findJob(ref, o.jobs);
      const home = homeDir(program.opts().home);
      const state = stateUrl(program.opts<{ state?: string }>().state);
      const store = await openStore(home, state);
      const fires = await openScheduleStore(home, state);
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const plan = await backfillPlan(job, timeOption('from', o.from), timeOption('to', o.to), fires);
        if (!o.json) {
          print(`${plan.length} slot${plan.length === 1 ? '' : 's'} of ${job.name} (${job.schedule!.text}, ${job.schedule!.timezone}) from ${o.from} to ${o.to}:`);
          for (const p of plan) print(`  ${p.slot}  ${p.existing ? `already fired: ${p.existing.status}${p.existing.runId ? ` (run ${p.existing.runId})` : ''}` : o.dryRun ? 'would run' : 'to run'}`);
        }
        if (o.dryRun) {
          if (o.json) print(JSON.stringify(plan, null, 2));
          return;
        }
        const pool = standalonePool(o);
        const results = await runBackfill(job, plan, {
          store, fires, executor: (spec) => executorForJob(spec, pool), home, now: Date.now(), signal: abort.signal,
          onResult: (r) => {
            if (!o.json) print(`  ${r.slot}  ${r.run ? `run ${r.run.id} ${r.run.status}${r.run.error ? `: ${r.run.error.message}` : ''}` : `skipped: ${r.skipped}`}`);
          },
        });
        if (o.json) print(JSON.stringify({ slots: plan, results }, null, 2));
        if (results.some((r) => r.run && r.run.status !== 'succeeded')) setCode(abort.signal.aborted ? 130 : 1);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await fires.close();
        await store.close();
      }
    });
}
