import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { DatamillError, NotSupportedError, SpecError } from '../core/errors.js';
import { executorForJob } from '../runtime/executors.js';
import { replayRun, runJob } from '../runtime/run-job.js';
import type { RunRecord, StateStore } from '../state/store.js';
import { STAGES, type StageName } from '../buffer/manifest.js';
import { loadJobFile, loadJobOrThrow } from '../spec/load-job.js';
import { formatProblem } from '../spec/problems.js';
import { redact } from '../spec/secrets.js';
import { homeDir, openStore, stateUrl } from './home.js';
import { inferJobBlocks } from './infer.js';
import { progressReporter } from './progress.js';
import { addReadCommands } from './read-commands.js';
import { collectParam, parseParams } from './params.js';
import { addTriggerCommand } from './trigger-command.js';
import { slackNotifier } from '../notify/slack-notifier.js';
import { addGcCommand } from './gc-command.js';
import { addServeCommands, validateTargets } from './serve-commands.js';
import { addContainerCommands, standalonePool, withPoolOptions, type PoolFlags } from './container-commands.js';

/** Exit codes (docs/cli.md): 0 success, 1 run failed, 2 invalid job or usage, 3 not supported yet, 130 interrupted. */
export const EXIT = { ok: 0, failed: 1, invalid: 2, unsupported: 3, interrupted: 130 } as const;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { version: string };
  return pkg.version;
}

/** Prints how a run ended: one summary line, where the rejects are, and how to see more. */
function reportRun(run: RunRecord, sink: string | undefined, json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify(run, null, 2) + '\n');
    return;
  }
  const f = run.figures;
  const took = Date.parse(run.finishedAt!) - Date.parse(run.startedAt!);
  if (run.status === 'succeeded') {
    const target = typeof f.target === 'string' && f.target.startsWith('/') ? relative(process.cwd(), f.target) || f.target : (f.target ?? sink ?? '');
    process.stdout.write(`run ${run.id} succeeded in ${(took / 1000).toFixed(1)}s: ${f.rows_extracted ?? 0} rows extracted, ${f.rows_rejected ?? 0} rejected, ${f.rows_loaded ?? 0} loaded into ${sink ? sink + ' ' : ''}${target}\n`);
    if (Number(f.rows_rejected) > 0 && run.buffer.startsWith('file://')) process.stdout.write(`rejected rows and their reasons: ${relative(process.cwd(), join(fileURLToPath(run.buffer), run.tenant, run.job, run.id, 'adapt', '_rejects'))}/\n`);
    if (Number(f.rows_rejected_in_load) > 0 && run.buffer.startsWith('file://')) process.stdout.write(`${f.rows_rejected_in_load} refused by the target; each with its reason: ${relative(process.cwd(), join(fileURLToPath(run.buffer), run.tenant, run.job, run.id, 'load', '_rejects'))}/\n`);
  } else process.stderr.write(`run ${run.id} ${run.status}: ${run.error?.stage ? run.error.stage + ': ' : ''}${run.error?.message ?? ''}\n`);
  process.stdout.write(`details: datamill show ${run.id}   logs: datamill logs ${run.id}\n`);
}

function exitCodeOf(run: RunRecord): number {
  if (run.status === 'interrupted') return EXIT.interrupted;
  return run.status === 'succeeded' ? EXIT.ok : run.error?.name === 'NotSupportedError' ? EXIT.unsupported : EXIT.failed;
}

/** Runs until done; Ctrl-C / SIGTERM cancels the stage in flight and records the run as interrupted. */
async function withStore<T>(program: Command, work: (store: StateStore, home: string, signal: AbortSignal) => Promise<T>): Promise<T> {
  const home = homeDir(program.opts().home);
  const store = await openStore(home, stateUrl(program.opts().state));
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await work(store, home, abort.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await store.close();
  }
}

export async function runCli(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const setCode = (c: number) => (code = c);
  const program = new Command('datamill')
    .description('ETL jobs in one YAML file: extract → adapt → transform → load, each stage an isolated task')
    .version(packageVersion(), '-V, --version')
    .option('--home <dir>', 'state and logs folder (default: $DATAMILL_HOME or ./.datamill)')
    .option('--state <url>', 'state store: postgres://… for a shared PostgreSQL (default: $DATAMILL_STATE_URL, else SQLite in the home)')
    // `serve --help` and the like list --home and --state too (they apply to every command).
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  withPoolOptions(program
    .command('run <job>')
    .description('one run of a job now, in the foreground; exit code 0 only on success')
    .option('--param <name=value>', 'set ${param:NAME} (repeatable)', collectParam, [] as string[])
    .option('--json', 'print the run record as JSON at the end')
    .option('--public-url <url>', 'base URL of the web UI, for links in notifications (default: $DATAMILL_PUBLIC_URL)'))
    .action(async (file: string, o: PoolFlags & { param: string[]; json?: boolean; publicUrl?: string }) => {
      const params = parseParams(o.param);
      const job = loadJobOrThrow(file, params);
      await withStore(program, async (store, home, signal) => {
        const publicUrl = o.publicUrl ?? (process.env.DATAMILL_PUBLIC_URL || undefined);
        const onRunEnd = slackNotifier({ store, home, ...(publicUrl ? { publicUrl } : {}) });
        const run = await runJob(job, { store, executor: (spec) => executorForJob(spec, standalonePool(o)), home, params, signal, onRunEnd, ...(o.json ? {} : { onEvent: progressReporter(process.stderr) }) });
        reportRun(run, job.spec.load.to, o.json === true);
        setCode(exitCodeOf(run));
      });
    });

  withPoolOptions(program
    .command('replay <run>')
    .description('re-run a run from one stage on, on the buffered output of the stage before it (the job spec the run used)')
    .requiredOption('--stage <stage>', 'extract | adapt | transform | load: where to start')
    .option('--json', 'print the run record as JSON at the end'))
    .action(async (id: string, o: PoolFlags & { stage: string; json?: boolean }) => {
      if (!(STAGES as readonly string[]).includes(o.stage)) throw new SpecError(`--stage ${o.stage}: expected one of ${STAGES.join(', ')}`);
      await withStore(program, async (store, home, signal) => {
        const run = await replayRun(id, o.stage as StageName, { store, executor: (spec) => executorForJob(spec, standalonePool(o)), home, signal, trigger: 'replay', ...(o.json ? {} : { onEvent: progressReporter(process.stderr) }) });
        reportRun(run, undefined, o.json === true);
        setCode(exitCodeOf(run));
      });
    });

  program
    .command('validate <jobs...>')
    .description('check job files (or folders of them, with `after:` checked across files) and print every problem with file:line, YAML path, the bad value and what is allowed')
    .action((targets: string[]) => {
      const { files, folderProblems } = validateTargets(targets);
      let bad = 0;
      for (const file of files) {
        const { problems } = loadJobFile(file);
        if (problems.length === 0) process.stdout.write(`${file}: ok\n`);
        for (const p of problems) process.stderr.write(formatProblem(p) + '\n');
        bad += problems.length;
      }
      for (const p of folderProblems) process.stderr.write(p + '\n');
      bad += folderProblems.length;
      if (bad > 0) setCode(EXIT.invalid);
    });

  program
    .command('infer <source>')
    .description('sample a csv/ndjson file (or glob) and print extract: and adapt: blocks with inferred types')
    .option('--rows <n>', 'how many records to sample', '1000')
    .action(async (source: string, o: { rows: string }) => {
      process.stdout.write(await inferJobBlocks(source, { rows: Number(o.rows), cwd: process.cwd() }));
    });

  addReadCommands(program, setCode);
  addTriggerCommand(program);
  addGcCommand(program);
  addServeCommands(program, setCode);
  addContainerCommands(program, setCode, withStore);

  program.command('stage').description('run one stage of a run as this process (used by executors)');

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.invalid;
    if (err instanceof DatamillError) {
      process.stderr.write(`datamill: ${redact(err.message)}\n`);
      return err instanceof NotSupportedError ? EXIT.unsupported : EXIT.invalid;
    }
    throw err;
  }
  return code;
}
