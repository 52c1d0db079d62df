#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { STAGES, type StageName } from '../buffer/manifest.js';
import { startSpareStage } from '../runtime/spare-stage.js';
import type { StageArgs } from '../stage/stage-main.js';

const STAGE_USAGE = 'usage: datamill stage --buffer URL --base-dir DIR --tenant T --job J --run R --stage extract|adapt|transform|load --attempt N\n';

function parseStageArgs(args: string[]): StageArgs | null {
  const { values } = parseArgs({
    args,
    options: { buffer: { type: 'string' }, 'base-dir': { type: 'string' }, tenant: { type: 'string' }, job: { type: 'string' }, run: { type: 'string' }, stage: { type: 'string' }, attempt: { type: 'string' } },
    strict: true,
  });
  const stage = values.stage as StageName;
  if (!values.buffer || !values.job || !values.run || !STAGES.includes(stage)) return null;
  return { buffer: values.buffer, baseDir: values['base-dir'] ?? process.cwd(), tenant: values.tenant ?? 'default', job: values.job, run: values.run, stage, attempt: Number(values.attempt ?? 1) };
}

/**
 * Entry point. `datamill stage …` (the task every executor starts) is parsed here without loading the
 * rest of the CLI, because its start-up time is paid once per stage attempt.
 */
async function main(argv: string[]): Promise<number> {
  // The AWS SDK warns once per process that releases after January 2027 need Node 22; the SDK is pinned
  // (package.json), and in a stage process the warning would land in the run log as an error line.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  if (argv[0] === 'stage') {
    const { runStageProcess } = await import('../stage/stage-main.js');
    if (argv[1] === '--spare') {
      // Started early by `datamill run`: the stage's code is loaded now, its arguments come on stdin.
      const { nextStdinLine } = await import('../stage/stdin-lines.js');
      const line = await nextStdinLine();
      if (line === null) return 0;
      const task = JSON.parse(line) as { args: string[]; env: Record<string, string> };
      Object.assign(process.env, task.env);
      const args = parseStageArgs(task.args.slice(1));
      return args ? runStageProcess({ ...args, hold: true }) : (process.stderr.write(STAGE_USAGE), 2);
    }
    const args = parseStageArgs(argv.slice(1));
    if (!args) {
      process.stderr.write(STAGE_USAGE);
      return 2;
    }
    return runStageProcess(args);
  }
  if (argv[0] === 'run' && !argv.includes('--help') && !argv.includes('-h')) startSpareStage();
  const { runCli } = await import('./commands.js');
  return runCli(argv);
}

main(process.argv.slice(2)).then(
  (code) => process.stdout.write('', () => process.exit(code)),
  (err: unknown) => {
    process.stderr.write(`datamill: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
