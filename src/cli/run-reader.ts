import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { ApiClient, ApiRequestError } from '../api/client.js';
import { SpecError } from '../core/errors.js';
import { followRunLog } from '../log/follow-run-log.js';
import { runLogPath, type LogEntry } from '../log/run-log.js';
import type { RunQuery, RunRecord, StageAttemptRecord } from '../state/store.js';
import { homeDir, openStore, stateUrl } from './home.js';

export interface RunDetail {
  run: RunRecord;
  attempts: StageAttemptRecord[];
}

/** Where `runs`, `show` and `logs` read from: the local state store and logs, or a server's API. */
export interface RunReader {
  listRuns(query: RunQuery): Promise<RunRecord[]>;
  /** The run a unique id prefix names, or null when none does. */
  findRun(id: string): Promise<RunDetail | null>;
  logs(run: RunRecord, query: { stage?: string; follow?: boolean }): AsyncIterable<LogEntry>;
  close(): Promise<void>;
}

export interface RemoteOptions {
  server?: string;
  token?: string;
}

/** `--server URL` / `--token T` (DATAMILL_SERVER, DATAMILL_TOKEN) on every command that can read a server. */
export function addRemoteOptions(command: Command): Command {
  return command
    .option('--server <url>', 'read from a running `datamill serve` (default: $DATAMILL_SERVER) instead of the local state')
    .option('--token <token>', 'bearer token for --server (default: $DATAMILL_TOKEN)');
}

export function remoteClient(o: RemoteOptions): ApiClient | null {
  const server = o.server ?? (process.env.DATAMILL_SERVER || undefined);
  if (!server) return null;
  const token = o.token ?? (process.env.DATAMILL_TOKEN || undefined);
  return new ApiClient(server, token);
}

const ENDED = new Set(['succeeded', 'failed', 'interrupted']);

export async function openRunReader(program: Command, o: RemoteOptions): Promise<RunReader> {
  const client = remoteClient(o);
  if (client) return remoteReader(client);
  const home = homeDir(program.opts().home);
  const store = await openStore(home, stateUrl(program.opts().state));
  return {
    listRuns: (q) => store.listRuns(q),
    async findRun(id) {
      const run = await store.findRun(id);
      return run ? { run, attempts: await store.listAttempts(run.id) } : null;
    },
    logs(run, q) {
      if (!existsSync(runLogPath(home, run.id)) && !q.follow) throw new SpecError(`run ${run.id} has no log file at ${runLogPath(home, run.id)}`);
      const follow = q.follow ? { follow: { ended: async () => ENDED.has((await store.getRun(run.id))?.status ?? 'failed') } } : {};
      return followRunLog(home, run.id, { ...(q.stage ? { stage: q.stage } : {}), ...follow });
    },
    close: () => store.close(),
  };
}

function remoteReader(client: ApiClient): RunReader {
  return {
    async listRuns(q) {
      return (await client.get<{ runs: RunRecord[] }>('/api/runs', { job: q.job, status: q.status, limit: q.limit })).runs;
    },
    async findRun(id) {
      try {
        return await client.get<RunDetail>(`/api/runs/${encodeURIComponent(id)}`);
      } catch (err) {
        if (err instanceof ApiRequestError && err.status === 404) return null;
        throw err;
      }
    },
    logs(run, q) {
      return client.lines(`/api/runs/${encodeURIComponent(run.id)}/logs`, { stage: q.stage, follow: q.follow ? 1 : undefined });
    },
    close: async () => undefined,
  };
}
