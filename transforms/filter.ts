import { z } from 'zod';
import { ExpressionError } from '../src/core/errors.js';
import type { TransformDef } from './op.js';
import { compileAt } from './expression-compile.js';

const config = z
  .string()
  .min(1)
  .describe('A boolean expression over the columns, e.g. "views > 0 and country <> \'ZZ\'"; rows where it is true are kept (false or null drop the row)');

export type FilterConfig = z.infer<typeof config>;

export const filter: TransformDef<FilterConfig> = {
  name: 'filter',
  description: 'Keep the rows for which an expression is true',
  config,
  compile(raw, input, ctx) {
    const source = config.parse(raw);
    const expr = compileAt(source, input, ctx.where);
    if (expr.type !== 'boolean') {
      throw new ExpressionError(`${ctx.where}: a filter must be a boolean expression; "${source}" is ${expr.type}`, 1, {
        details: { where: ctx.where, value: source, expected: 'boolean' },
      });
    }
    const evaluate = expr.evaluate;
    return {
      kind: 'stream',
      output: input,
      push(row, emit) {
        if (evaluate(row) === true) emit(row);
      },
    };
  },
};
