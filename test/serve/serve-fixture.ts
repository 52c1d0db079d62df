import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI, workspace } from '../support/cli.js';

/**
 * A job that loads one row per run into PostgreSQL, tagged with its job and slot (adapt defaults, so the
 * run has three stage processes only): duplicates would show.
 */
export function slotJob(name: string, o: { cron?: string; every?: string; after?: string[]; catchup?: string; concurrency?: string; timezone?: string; fail?: boolean; buffer?: string } = {}): string {
  const schedule = o.cron || o.every
    ? `schedule: { ${o.cron ? `cron: "${o.cron}"` : `every: "${o.every}"`}${o.timezone ? `, timezone: ${o.timezone}` : ''}${o.catchup ? `, catchup: ${o.catchup}` : ''}${o.concurrency ? `, concurrency: ${o.concurrency}` : ''} }\n`
    : '';
  return `job: ${name}
params: { slot: manual }
${schedule}${o.after ? `after: [${o.after.join(', ')}]\n` : ''}buffer: ${o.buffer ?? 'file://.datamill/buffer'}
retries: { attempts: 2, backoff: 100ms }
extract: { from: csv, path: ${o.fail ? 'missing-*.csv' : 'one.csv'} }
adapt: { fields: { id: integer, slot: { type: string, default: "\${param:slot}" }, job: { type: string, default: ${name} } } }
load: { to: postgres, connection: "\${env:WAREHOUSE_URL}", table: fires, mode: append }
`;
}

export const FIRES_TABLE = 'CREATE TABLE fires (id integer, slot text, job text)';

/** A project folder with a jobs folder and the data files the jobs read. */
export function serveWorkspace(): ReturnType<typeof workspace> & { jobs: string; job(name: string, text: string): string } {
  const ws = workspace();
  const jobs = join(ws.dir, 'jobs');
  mkdirSync(jobs);
  writeFileSync(join(jobs, 'one.csv'), 'id\n1\n');
  return { ...ws, jobs, job: (name, text) => (writeFileSync(join(jobs, `${name}.yaml`), text), join(jobs, `${name}.yaml`)) };
}

/** The test clock: `start` now, `speed` times faster; every process given the same value agrees on the time. */
export function testClock(start: string, speed: number, at = Date.now()): string {
  return `start=${start},at=${at},speed=${speed}`;
}

export interface ServeProcess {
  child: ChildProcess;
  log: Array<Record<string, unknown>>;
  stderr(): string;
  exit: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** The HTTP API's base URL, once the server listens. */
  apiUrl(): Promise<string>;
}

const live = new Set<ServeProcess>();
const started: ChildProcess[] = [];

// A failed test must not leave its servers (and their stage processes) firing into the next tests.
process.on('exit', () => {
  for (const s of live) killGroup(s.child, 'SIGKILL');
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Ends the servers a test left running (it failed before stopping them), with every stage process they
 * started, and prints the end of their logs for the failure's diagnosis. For `test.afterEach`.
 */
export async function endLeftoverServers(): Promise<void> {
  for (const s of [...live]) {
    process.stdout.write(`# a server was left running; the end of its log:\n${s.log.slice(-40).map((l) => `#   ${JSON.stringify(l)}`).join('\n')}\n`);
    killGroup(s.child, 'SIGKILL');
    await s.exit;
  }
  // Stage processes a server killed with -9 left behind (still in its group).
  for (const child of started.splice(0)) killGroup(child, 'SIGKILL');
}

/** `datamill serve` as a real process (JSON log lines on stderr, kept for assertions). */
export function startServe(dir: string, args: string[], env: Record<string, string>): ServeProcess {
  // Several servers run at once in the suite: each API on a free port unless the test picks one.
  const withPort = args.includes('--port') ? args : [...args, '--port', '0'];
  // Its own process group, so a leftover server is ended together with its stage processes. `kill -9`
  // in a test (child.kill) still hits the server alone, leaving its stage processes orphaned, as a crash does.
  const child = spawn(process.execPath, [CLI, 'serve', ...withPort], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let err = '';
  const log: Array<Record<string, unknown>> = [];
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    const lines = err.split('\n');
    err = lines.pop()!;
    for (const l of lines) {
      try {
        log.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        log.push({ message: l });
      }
    }
  });
  child.stdout!.resume();
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  const serve: ServeProcess = {
    child, log, exit,
    stderr: () => log.map((l) => String(l.message)).join('\n'),
    apiUrl: () => waitFor('the API to listen', () => log.find((l) => typeof l.api === 'string')?.api as string | undefined, 60_000),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exit;
    },
  };
  live.add(serve);
  started.push(child);
  void exit.then(() => live.delete(serve));
  return serve;
}

/**
 * Pauses jobs through the server's HTTP API, as a user would. Tests pause once they have the slots they
 * assert on, so the fast clock stops adding runs that would only slow the ones they wait for.
 */
export async function pauseJobs(serve: ServeProcess, jobs: string[]): Promise<void> {
  const api = await serve.apiUrl();
  for (const job of jobs) {
    const res = await fetch(`${api}/api/jobs/${job}/pause`, { method: 'POST' });
    if (res.status !== 200) throw new Error(`pause ${job}: HTTP ${res.status} ${await res.text()}`);
  }
}

/** Polls until `check` returns a value (not undefined, null or false); fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 300_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}
