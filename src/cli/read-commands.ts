import { InvalidArgumentError, Option, type Command } from 'commander';
import { STAGES } from '../buffer/manifest.js';
import { formatLogEntry } from '../log/run-log.js';
import type { RunRecord } from '../state/store.js';
import { formatBytes, formatDuration } from '../spec/units.js';
import { addRemoteOptions, openRunReader, type RemoteOptions, type RunDetail, type RunReader } from './run-reader.js';

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

async function findRunOrExit(reader: RunReader, id: string): Promise<RunDetail | null> {
  const found = await reader.findRun(id);
  if (!found) process.stderr.write(`datamill: no run matches '${id}' (see \`datamill runs\`)\n`);
  return found;
}

async function withReader<T>(program: Command, o: RemoteOptions, work: (reader: RunReader) => Promise<T>): Promise<T> {
  const reader = await openRunReader(program, o);
  try {
    return await work(reader);
  } finally {
    await reader.close();
  }
}

/** `runs`, `show RUN`, `logs RUN`: read the state store and run logs (or a server's API), as tables or --json. */
export function addReadCommands(program: Command, setCode: (code: number) => void): void {
  addRemoteOptions(program
    .command('runs'))
    .description('list recent runs, newest first')
    .option('--job <name>', 'only runs of this job')
    .addOption(new Option('--status <status>', 'only runs in this state').choices(['queued', 'running', 'succeeded', 'failed', 'interrupted']))
    .option('--limit <n>', 'how many', positiveInteger, 20)
    .option('--json', 'print JSON')
    .action(async (o: { job?: string; status?: RunRecord['status']; limit: number; json?: boolean } & RemoteOptions) => {
      const runs = await withReader(program, o, (reader) => reader.listRuns({ ...(o.job ? { job: o.job } : {}), ...(o.status ? { status: o.status } : {}), limit: o.limit }));
      if (o.json) {
        print(JSON.stringify(runs, null, 2));
        return;
      }
      if (runs.length === 0) {
        print('no runs yet');
        return;
      }
      // Scheduled runs show the slot they ran for (and how they were started); a laptop's manual runs do not need the columns.
      const scheduled = runs.some((r) => r.slot);
      const head = ['RUN', 'JOB', 'STATUS', ...(scheduled ? ['SLOT', 'TRIGGER'] : []), 'STARTED', 'DURATION', 'LOADED', 'REJECTED'];
      print(table([head, ...runs.map((r) => [r.id, r.job, r.status, ...(scheduled ? [r.slot ?? '-', r.trigger] : []), r.startedAt ?? '-', duration(r), fmt((r.figures.rows_loaded as number | undefined) ?? null), fmt((r.figures.rows_rejected as number | undefined) ?? null)])]));
    });

  addRemoteOptions(program
    .command('show <run>'))
    .description("one run: its stages, attempts and figures (rows, bytes, duration, peak memory, CPU)")
    .option('--json', 'print JSON')
    .action(async (id: string, o: { json?: boolean } & RemoteOptions) => {
      const found = await withReader(program, o, (reader) => findRunOrExit(reader, id));
      if (!found) {
        setCode(1);
        return;
      }
      const { run, attempts } = found;
      if (o.json) {
        print(JSON.stringify({ ...run, attempts }, null, 2));
        return;
      }
      print(`run      ${run.id}\njob      ${run.job} (tenant ${run.tenant})\nstatus   ${run.status}\ntrigger  ${run.trigger}${run.slot ? `\nslot     ${run.slot}` : ''}\nstarted  ${run.startedAt ?? '-'}\nduration ${duration(run)}\nbuffer   ${run.buffer}`);
      if (run.error) print(`error    ${run.error.stage ? run.error.stage + ': ' : ''}${run.error.message}${run.error.retryable ? ' (retryable)' : ''}`);
      print('');
      print(table([['STAGE', 'ATTEMPT', 'STATUS', 'ROWS IN', 'ROWS OUT', 'REJECTED', 'DURATION', 'PEAK RSS', 'CPU s', 'TASK'], ...attempts.map((a) => [a.stage, String(a.attempt), a.status, fmt(a.rowsIn), fmt(a.rowsOut), fmt(a.rowsRejected), a.durationMs === null ? '-' : formatDuration(a.durationMs), a.peakRssBytes === null ? '-' : formatBytes(a.peakRssBytes), a.cpuSeconds === null ? '-' : a.cpuSeconds.toFixed(2), `${a.executor}:${a.taskId ?? '-'}`])]));
      for (const a of attempts) if (a.error) print(`  ${a.stage}#${a.attempt}: ${a.error.name}: ${a.error.message}`);
    });

  addRemoteOptions(program
    .command('logs <run>'))
    .description("a run's logs (every stage and attempt, stage processes' output included)")
    .addOption(new Option('--stage <stage>', 'only this stage').choices([...STAGES]))
    .option('--follow', 'keep printing new lines until the run ends')
    .option('--json', 'print the JSON lines as stored')
    .action(async (id: string, o: { stage?: string; follow?: boolean; json?: boolean } & RemoteOptions) => {
      await withReader(program, o, async (reader) => {
        const found = await findRunOrExit(reader, id);
        if (!found) {
          setCode(1);
          return;
        }
        for await (const e of reader.logs(found.run, { ...(o.stage ? { stage: o.stage } : {}), ...(o.follow ? { follow: true } : {}) })) {
          if (o.json) {
            print(JSON.stringify(e));
            continue;
          }
          print(formatLogEntry(e));
        }
      });
    });
}
