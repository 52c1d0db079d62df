import { open } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOG_LEVELS, type LogLevel } from '../core/stage-context.js';
import { runLogPath, type LogEntry } from './run-log.js';

export interface RunLogQuery {
  stage?: string;
  /** Only entries at this level or more severe (`warn` gives fatal, error and warn). */
  level?: LogLevel;
  /** Keep reading as the run writes, until `ended()` says the run is over and its last lines are in. */
  follow?: { ended(): Promise<boolean>; signal?: AbortSignal; pollMs?: number };
}

const CHUNK = 64 * 1024;
/** Once the run has ended, how many quiet polls mean the log writer has flushed its last line. */
const QUIET_POLLS = 5;
const RUN_END = /^run (succeeded|failed|interrupted)/;

/**
 * A run's log entries, read in chunks from the JSON-lines file (memory does not grow with the log), and
 * optionally followed like `tail -f` until the run ends. Polling, not fs.watch: it behaves the same on
 * every filesystem, including network mounts and container volumes.
 */
export async function* followRunLog(home: string, runId: string, query: RunLogQuery = {}): AsyncGenerator<LogEntry> {
  const path = runLogPath(home, runId);
  const max = query.level ? LOG_LEVELS[query.level] : Infinity;
  const keep = (e: LogEntry) => (!query.stage || e.stage === query.stage) && (LOG_LEVELS[e.level as LogLevel] ?? LOG_LEVELS.info) <= max;
  let position = 0;
  let partial = '';
  // A multi-byte character may straddle two reads.
  const decoder = new StringDecoder('utf8');
  let quiet = 0;
  let sawEnd = false;
  for (;;) {
    let grew = false;
    const file = await open(path, 'r').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : Promise.reject(err)));
    if (file) {
      try {
        const buf = Buffer.alloc(CHUNK);
        for (;;) {
          const { bytesRead } = await file.read(buf, 0, CHUNK, position);
          if (bytesRead === 0) break;
          grew = true;
          position += bytesRead;
          const lines = (partial + decoder.write(buf.subarray(0, bytesRead))).split('\n');
          partial = lines.pop()!;
          for (const line of lines) {
            const entry = parseLine(line);
            if (!entry) continue;
            sawEnd = !entry.stage && RUN_END.test(entry.message);
            if (keep(entry)) yield entry;
          }
        }
      } finally {
        await file.close();
      }
    }
    const follow = query.follow;
    if (!follow || follow.signal?.aborted) break;
    if (await follow.ended()) {
      // The run's state is recorded just before its last log line is written: wait for that line.
      quiet = grew ? 0 : quiet + 1;
      if (sawEnd || quiet >= QUIET_POLLS) break;
    }
    await sleep(follow.pollMs ?? 200, undefined, follow.signal ? { signal: follow.signal } : {}).catch(() => undefined);
  }
  const last = parseLine(partial);
  if (last && keep(last)) yield last;
}

function parseLine(line: string): LogEntry | null {
  if (!line) return null;
  try {
    return JSON.parse(line) as LogEntry;
  } catch {
    return null;
  }
}
