import { DatamillError, ExpressionError } from '../src/core/errors.js';
import type { Schema } from '../src/core/schema.js';
import { compileExpression } from '../src/expr/index.js';

export type CompiledExpression = ReturnType<typeof compileExpression>;

/** Compiles an expression, re-throwing its errors with the step's place and the expression's text. */
export function compileAt(source: string, schema: Schema, where: string): CompiledExpression {
  try {
    return compileExpression(source, schema);
  } catch (err) {
    if (err instanceof ExpressionError) {
      throw new ExpressionError(`${where}: ${err.message} (column ${err.column} of "${source}")`, err.column, {
        details: { ...err.details, where, value: source },
      });
    }
    if (err instanceof DatamillError) throw err;
    throw new ExpressionError(`${where}: ${err instanceof Error ? err.message : String(err)} in "${source}"`, 1, { details: { where, value: source } });
  }
}
