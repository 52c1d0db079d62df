import { SpecError } from '../core/errors.js';

/** `--param NAME=VALUE` (repeatable) into the `${param:NAME}` values of a run. */
export function parseParams(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of list) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new SpecError(`--param ${p}: expected NAME=VALUE`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

export const collectParam = (v: string, acc: string[]) => [...acc, v];
