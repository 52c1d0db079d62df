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

const serverFaultHits = new Map<string, number>();

/**
 * The same knob for `datamill serve`: DATAMILL_SERVER_FAULT=<point>[:<n>] kills the server with SIGKILL
 * the n-th time (default 1) it passes that point, e.g. `fire-claimed` (a fire is recorded, its run not
 * started yet). Test-only, like DATAMILL_FAULT.
 */
export function serverFaultPoint(point: string): void {
  const spec = process.env.DATAMILL_SERVER_FAULT;
  if (!spec) return;
  const [name, nth = '1'] = spec.split(':');
  if (name !== point) return;
  const hits = (serverFaultHits.get(point) ?? 0) + 1;
  serverFaultHits.set(point, hits);
  if (hits === Number(nth)) process.kill(process.pid, 'SIGKILL');
}
