import winston from 'winston';
import { LOG_LEVELS, type LogLevel, type StageLogger } from '../core/stage-context.js';
import { redact } from '../spec/secrets.js';

export interface LogTags {
  job: string;
  run: string;
  stage?: string;
  attempt?: number;
}

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { name: value.name, message: redact(value.message) };
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, depth + 1)]));
}

/** Every line passes through here: secrets a connector resolved never reach a log. */
const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) (info as Record<string, unknown>)[key] = scrub((info as Record<string, unknown>)[key]);
  return info;
});

export function logLevel(): LogLevel {
  const l = process.env.DATAMILL_LOG_LEVEL;
  return l && l in LOG_LEVELS ? (l as LogLevel) : 'info';
}

/** A winston logger writing JSON lines, tagged with job/run/stage/attempt, to the given transports. */
export function createLogger(tags: LogTags, transports: winston.transport[], level: LogLevel = logLevel()): winston.Logger {
  return winston.createLogger({
    levels: LOG_LEVELS,
    level,
    defaultMeta: tags,
    format: winston.format.combine(redactFormat(), winston.format.timestamp(), winston.format.json()),
    transports,
  });
}

/** The logger of a stage process: JSON lines on stdout, which the runtime captures into the run's log. */
export function stageProcessLogger(tags: LogTags): winston.Logger {
  return createLogger(tags, [new winston.transports.Stream({ stream: process.stdout })]);
}

export function asStageLogger(logger: winston.Logger): StageLogger {
  const at = (level: LogLevel) => (message: string, meta?: Record<string, unknown>) => logger.log(level, message, meta ?? {});
  return { fatal: at('fatal'), error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}
