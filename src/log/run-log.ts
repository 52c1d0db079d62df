import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
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

/** One entry as `datamill logs` prints it: time, level, [stage#attempt] or [run], message, other fields as JSON. */
export function formatLogEntry(e: LogEntry): string {
  const { level, message, timestamp, stage, attempt, job: _job, run: _run, ...meta } = e;
  const where = stage ? `[${stage}${attempt ? '#' + attempt : ''}]` : '[run]';
  const extra = Object.keys(meta).length > 0 ? ' ' + JSON.stringify(meta) : '';
  return `${timestamp ?? ''} ${level.toUpperCase().padEnd(5)} ${where} ${message}${extra}`;
}
