import type { StageName } from '../buffer/manifest.js';

/** Levels, most severe first (winston's numbering: lower is more severe). */
export const LOG_LEVELS = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4 } as const;
export type LogLevel = keyof typeof LOG_LEVELS;

export interface StageLogger {
  fatal(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
}

/**
 * What every stage's code is handed: who it is, a scoped logger, an abort signal, a progress callback,
 * and where relative paths and scratch files go.
 */
export interface StageContext {
  readonly tenant: string;
  readonly job: string;
  readonly run: string;
  readonly stage: StageName;
  readonly attempt: number;
  readonly log: StageLogger;
  readonly signal: AbortSignal;
  /** Reports rows processed since the last call (drives the progress bar). */
  progress(rows: number): void;
  /** Folder that relative paths in the job file resolve against (the job file's folder). */
  readonly baseDir: string;
  /** Scratch folder for spills; removed when the stage ends. */
  readonly tmpDir: string;
  /** Resolves `${env:NAME}` / `${file:PATH}` references in a config string at the moment of use. */
  secret(value: string): string;
}
