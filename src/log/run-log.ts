import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import winston from 'winston';
import { createLogger } from './logger.js';

/** Each run's log is one JSON-lines file under the Datamill home: readable by `datamill logs` without SSH. */
export function runLogPath(home: string, runId: string): string {
  return join(home, 'logs', `${runId}.ndjson`);
}

export function runLogger(home: string, job: string, runId: string): winston.Logger {
  mkdirSync(join(home, 'logs'), { recursive: true });
  return createLogger({ job, run: runId }, [new winston.transports.File({ filename: runLogPath(home, runId) })], 'debug');
}

export interface LogEntry {
  level: string;
  message: string;
  timestamp?: string;
  stage?: string;
  attempt?: number;
  [key: string]: unknown;
}

/** Reads a run's log entries, optionally of one stage and at or above a level. */
export async function* readRunLog(home: string, runId: string, filter: { stage?: string } = {}): AsyncGenerator<LogEntry> {
  const path = runLogPath(home, runId);
  if (!existsSync(path)) return;
  for await (const line of createInterface({ input: createReadStream(path) })) {
    if (!line) continue;
    let entry: LogEntry;
    try {
      entry = JSON.parse(line) as LogEntry;
    } catch {
      continue;
    }
    if (filter.stage && entry.stage !== filter.stage) continue;
    yield entry;
  }
}
