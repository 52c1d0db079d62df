import type { z } from 'zod';
import { didYouMean } from './closest.js';
import { extractSchema, jobSchema, loadSchema } from './job-schema.js';
import { allowedKeysAt } from './schema-walk.js';

type Issue = z.core.$ZodIssue;

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v = root;
  for (const k of path) v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? s.slice(0, 77) + '...' : s;
}

function discriminatorValues(discriminator: string): string[] {
  const schema = discriminator === 'from' ? extractSchema : loadSchema;
  return schema.options.map((o) => String((o.shape as Record<string, { value?: unknown }>)[discriminator]?.value));
}

/** Chooses the union branch that got furthest (its issues have the longest paths): the one the user meant. */
function bestBranch(errors: Issue[][]): Issue[] {
  let best: Issue[] = errors[0] ?? [];
  let depth = -1;
  for (const branch of errors) {
    const d = Math.max(...branch.map((i) => i.path.length + (i.code === 'invalid_type' && i.path.length === 0 ? -1 : 0)));
    if (d > depth) {
      best = branch;
      depth = d;
    }
  }
  return best;
}

/** Turns a zod issue into a path and a message naming the bad value and what is allowed. */
export function describeIssue(issue: Issue, root: unknown, prefix: PropertyKey[] = []): { path: PropertyKey[]; message: string } {
  const path = [...prefix, ...issue.path];
  const value = valueAt(root, path);
  switch (issue.code) {
    case 'invalid_type':
      return { path, message: value === undefined ? `missing; expected ${issue.expected}` : `expected ${issue.expected}, got ${show(value)}` };
    case 'invalid_value':
      return { path, message: `invalid value ${show(value)}; expected one of ${issue.values.map((v) => String(v)).join(' | ')}${typeof value === 'string' ? didYouMean(value, issue.values.map(String)) : ''}` };
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(jobSchema, root, path);
      const key = issue.keys[0]!;
      return { path: [...path, key], message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}${didYouMean(key, allowed)}${allowed.length > 0 ? `; allowed: ${allowed.join(', ')}` : ''}` };
    }
    case 'invalid_union': {
      if (issue.discriminator) {
        const allowed = discriminatorValues(issue.discriminator);
        const at = path[path.length - 1] === issue.discriminator ? path : [...path, issue.discriminator];
        const got = valueAt(root, at);
        return {
          path: at,
          message: got === undefined ? `missing; expected one of ${allowed.join(' | ')}` : `unknown ${issue.discriminator === 'from' ? 'source' : 'sink'} ${show(got)}${typeof got === 'string' ? didYouMean(got, allowed) : ''}; expected one of ${allowed.join(' | ')}`,
        };
      }
      const branch = bestBranch(issue.errors);
      if (branch.length > 0) return describeIssue(branch[0]!, root, path);
      return { path, message: issue.message };
    }
    case 'too_small':
      return { path, message: `${show(value)} is too small; minimum ${String(issue.minimum)}` };
    case 'too_big':
      return { path, message: `${show(value)} is too big; maximum ${String(issue.maximum)}` };
    case 'invalid_format':
      return { path, message: `${show(value)}: ${issue.message}` };
    default:
      return { path, message: value === undefined ? issue.message : `${show(value)}: ${issue.message}` };
  }
}
