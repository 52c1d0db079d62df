import type { StageContext } from './stage-context.js';

/**
 * Fault injection for reliability tests, the way databases ship testing knobs: with
 * DATAMILL_FAULT=<stage>:<point>[:<attempt>] the stage process kills itself with SIGKILL when it reaches
 * that point (on that attempt only, default 1) — exactly what `kill -9` from outside does, but at a
 * moment a test can name. Unset in production, where this is one string comparison.
 */
export function faultPoint(ctx: Pick<StageContext, 'stage' | 'attempt'>, point: string): void {
  const spec = process.env.DATAMILL_FAULT;
  if (!spec) return;
  const [stage, name, attempt = '1'] = spec.split(':');
  if (stage === ctx.stage && name === point && Number(attempt) === ctx.attempt) process.kill(process.pid, 'SIGKILL');
}
