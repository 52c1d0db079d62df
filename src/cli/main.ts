#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { STAGES, type StageName } from '../buffer/manifest.js';

/**
 * Entry point. `datamill stage …` (the task every executor starts) is parsed here without loading the
 * rest of the CLI, because its start-up time is paid once per stage attempt.
 */
async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'stage') {
    const { values } = parseArgs({
      args: argv.slice(1),
      options: { buffer: { type: 'string' }, 'base-dir': { type: 'string' }, tenant: { type: 'string' }, job: { type: 'string' }, run: { type: 'string' }, stage: { type: 'string' }, attempt: { type: 'string' } },
      strict: true,
    });
    const stage = values.stage as StageName;
    if (!values.buffer || !values.job || !values.run || !STAGES.includes(stage)) {
      process.stderr.write('usage: datamill stage --buffer URL --base-dir DIR --tenant T --job J --run R --stage extract|adapt|transform|load --attempt N\n');
      return 2;
    }
    const { runStageProcess } = await import('../stage/stage-main.js');
    return runStageProcess({ buffer: values.buffer, baseDir: values['base-dir'] ?? process.cwd(), tenant: values.tenant ?? 'default', job: values.job, run: values.run, stage, attempt: Number(values.attempt ?? 1) });
  }
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
