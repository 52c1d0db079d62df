import { existsSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { STAGES } from '../buffer/manifest.js';
import { readRunLog, runLogPath } from '../log/run-log.js';
import type { RunRecord, StageAttemptRecord } from '../state/store.js';
import { formatBytes, formatDuration } from '../spec/units.js';
import { homeDir, openStore } from './home.js';

function positiveInteger(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

const fmt = (n: number | null) => (n === null ? '-' : n.toLocaleString('en-US'));
const print = (s: string) => process.stdout.write(s + '\n');

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

function duration(r: { startedAt: string | null; finishedAt: string | null }): string {
  if (!r.startedAt) return '-';
  return formatDuration((r.finishedAt ? Date.parse(r.finishedAt) : Date.now()) - Date.parse(r.startedAt));
}

async function findRunOrExit(home: string, id: string): Promise<{ run: RunRecord; attempts: StageAttemptRecord[] } | null> {
  const store = await openStore(home);
  try {
    const run = await store.findRun(id);
    if (!run) {
      process.stderr.write(`datamill: no run matches '${id}' (see \`datamill runs\`)\n`);
      return null;
    }
    return { run, attempts: await store.listAttempts(run.id) };
  } finally {
    await store.close();
  }
}

/** `runs`, `show RUN`, `logs RUN`: read the state store and run logs, as tables or --json. */
export function addReadCommands(program: Command, setCode: (code: number) => void): void {
  program
    .command('runs')
    .description('list recent runs, newest first')
    .option('--job <name>', 'only runs of this job')
    .addOption(new Option('--status <status>', 'only runs in this state').choices(['queued', 'running', 'succeeded', 'failed', 'interrupted']))
    .option('--limit <n>', 'how many', positiveInteger, 20)
    .option('--json', 'print JSON')
    .action(async (o: { job?: string; status?: RunRecord['status']; limit: number; json?: boolean }) => {
      const store = await openStore(homeDir(program.opts().home));
      const runs = await store.listRuns({ ...(o.job ? { job: o.job } : {}), ...(o.status ? { status: o.status } : {}), limit: o.limit });
      await store.close();
      if (o.json) {
        print(JSON.stringify(runs, null, 2));
        return;
      }
      if (runs.length === 0) {
        print('no runs yet');
        return;
      }
      print(table([['RUN', 'JOB', 'STATUS', 'STARTED', 'DURATION', 'LOADED', 'REJECTED'], ...runs.map((r) => [r.id, r.job, r.status, r.startedAt ?? '-', duration(r), fmt((r.figures.rows_loaded as number | undefined) ?? null), fmt((r.figures.rows_rejected as number | undefined) ?? null)])]));
    });

  program
    .command('show <run>')
    .description("one run: its stages, attempts and figures (rows, bytes, duration, peak memory, CPU)")
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const found = await findRunOrExit(homeDir(program.opts().home), id);
      if (!found) {
        setCode(1);
        return;
      }
      const { run, attempts } = found;
      if (o.json) {
        print(JSON.stringify({ ...run, attempts }, null, 2));
        return;
      }
      print(`run      ${run.id}\njob      ${run.job} (tenant ${run.tenant})\nstatus   ${run.status}\ntrigger  ${run.trigger}\nstarted  ${run.startedAt ?? '-'}\nduration ${duration(run)}\nbuffer   ${run.buffer}`);
      if (run.error) print(`error    ${run.error.stage ? run.error.stage + ': ' : ''}${run.error.message}${run.error.retryable ? ' (retryable)' : ''}`);
      print('');
      print(table([['STAGE', 'ATTEMPT', 'STATUS', 'ROWS IN', 'ROWS OUT', 'REJECTED', 'DURATION', 'PEAK RSS', 'CPU s', 'TASK'], ...attempts.map((a) => [a.stage, String(a.attempt), a.status, fmt(a.rowsIn), fmt(a.rowsOut), fmt(a.rowsRejected), a.durationMs === null ? '-' : formatDuration(a.durationMs), a.peakRssBytes === null ? '-' : formatBytes(a.peakRssBytes), a.cpuSeconds === null ? '-' : a.cpuSeconds.toFixed(2), `${a.executor}:${a.taskId ?? '-'}`])]));
      for (const a of attempts) if (a.error) print(`  ${a.stage}#${a.attempt}: ${a.error.name}: ${a.error.message}`);
    });

  program
    .command('logs <run>')
    .description("a run's logs (every stage and attempt, stage processes' output included)")
    .addOption(new Option('--stage <stage>', 'only this stage').choices([...STAGES]))
    .option('--json', 'print the JSON lines as stored')
    .action(async (id: string, o: { stage?: string; json?: boolean }) => {
      const home = homeDir(program.opts().home);
      const found = await findRunOrExit(home, id);
      if (!found) {
        setCode(1);
        return;
      }
      if (!existsSync(runLogPath(home, found.run.id))) {
        process.stderr.write(`datamill: run ${found.run.id} has no log file at ${runLogPath(home, found.run.id)}\n`);
        setCode(1);
        return;
      }
      for await (const e of readRunLog(home, found.run.id, o.stage ? { stage: o.stage } : {})) {
        if (o.json) {
          print(JSON.stringify(e));
          continue;
        }
        const { level, message, timestamp, stage, attempt, job: _job, run: _run, ...meta } = e;
        const where = stage ? `[${stage}${attempt ? '#' + attempt : ''}]` : '[run]';
        const extra = Object.keys(meta).length > 0 ? ' ' + JSON.stringify(meta) : '';
        print(`${timestamp ?? ''} ${level.toUpperCase().padEnd(5)} ${where} ${message}${extra}`);
      }
    });
}
