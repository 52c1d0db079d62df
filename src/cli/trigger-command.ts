import type { Command } from 'commander';
import { SpecError } from '../core/errors.js';
import type { RunRecord } from '../state/store.js';
import { collectParam, parseParams } from './params.js';
import { addRemoteOptions, remoteClient, type RemoteOptions } from './run-reader.js';

/** `datamill trigger JOB --server URL`: a run now on a running `serve`, outside the schedule. */
export function addTriggerCommand(program: Command): void {
  addRemoteOptions(program.command('trigger <job>'))
    .description('start a run of JOB now on a running `datamill serve` (needs --server); prints the run id and returns')
    .option('--param <name=value>', 'set ${param:NAME} (repeatable)', collectParam, [] as string[])
    .option('--json', 'print the run record as JSON')
    .action(async (job: string, o: { param: string[]; json?: boolean } & RemoteOptions) => {
      const params = parseParams(o.param);
      const client = remoteClient(o);
      if (!client) throw new SpecError('trigger needs a server: pass --server URL (or set DATAMILL_SERVER); to run a job here, use `datamill run JOB.yaml`');
      const { run } = await client.post<{ run: RunRecord }>(`/api/jobs/${encodeURIComponent(job)}/trigger`, { params });
      if (o.json) {
        process.stdout.write(JSON.stringify(run, null, 2) + '\n');
        return;
      }
      process.stdout.write(`run ${run.id} of ${run.job} started\nfollow: datamill logs ${run.id} --follow --server ${o.server ?? process.env.DATAMILL_SERVER}\n`);
    });
}
