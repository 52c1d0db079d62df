import { DatamillError, ExpressionError } from '../core/errors.js';
import type { Schema } from '../core/schema.js';
import { TRANSFORMS } from '../../transforms/index.js';
import type { CompileContext } from '../../transforms/op.js';
import type { JobSpec } from './job-schema.js';
import { adaptedSchema, transformSteps } from './steps.js';

const quiet = { fatal() {}, error() {}, warn() {}, info() {}, debug() {} };

/**
 * Compiles the transform steps against the adapted schema without reading any data, so an unknown
 * column or a broken expression is reported by `validate` (with its line) instead of mid-run. Stops at
 * the first step whose output depends on the data (a two-pass op such as flatten without `fields`).
 */
export function checkPipeline(spec: JobSpec): Array<{ path: PropertyKey[]; message: string }> {
  const problems: Array<{ path: PropertyKey[]; message: string }> = [];
  let schema: Schema | null = adaptedSchema(spec);
  for (const step of transformSteps(spec)) {
    const def = TRANSFORMS[step.name];
    if (!def || !schema) break;
    const ctx: CompileContext = { where: step.where, tmpDir: '', log: quiet };
    try {
      const op = def.compile(def.config.parse(step.config), schema, ctx);
      schema = op.kind === 'stream' ? op.output : null;
    } catch (err) {
      const message = err instanceof ExpressionError ? `${err.message} (column ${err.column} of the expression)` : err instanceof DatamillError ? err.message : String(err);
      problems.push({ path: step.path, message });
      schema = null;
    }
  }
  const load = spec.load as { key?: string[] };
  if (schema && load.key) {
    const names = new Set(schema.map((f) => f.name));
    load.key.forEach((k, i) => {
      if (!names.has(k)) problems.push({ path: ['load', 'key', i], message: `key column '${k}' is not in the rows being loaded (${[...names].join(', ')})` });
    });
  }
  return problems;
}
