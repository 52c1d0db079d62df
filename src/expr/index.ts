/**
 * The expression language of `filter` and `derive` (reference: docs/expressions.md).
 *
 * source → tokens (lexer) → tree with columns (parser) → types checked, names resolved (checker)
 * → one JavaScript function per expression (codegen). Every error a user can make is found at compile
 * time, with the 1-based column where it is; evaluation then does no parsing, lookups or allocation
 * beyond the values it produces.
 */
import { ExpressionError } from '../core/errors.js';
import type { FieldType, Row, Schema, Value } from '../core/schema.js';
import { Checker, resultType } from './checker.js';
import { generate } from './codegen.js';
import { FUNCTIONS } from './function-signatures.js';
import { parse } from './parser.js';

export interface CompiledExpression {
  readonly source: string;
  readonly type: FieldType;
  evaluate(row: Row): Value;
}

/** Names of every function the language has, sorted, for docs and error hints. */
export const FUNCTION_NAMES: readonly string[] = Object.freeze([...FUNCTIONS.keys()].sort());

/**
 * Compiles `source` against the columns of `schema`. `evaluate(row)` takes a row aligned with `schema`
 * and returns a value in the in-memory representation of `type`, or null.
 * @throws ExpressionError with the 1-based column of the problem.
 */
export function compileExpression(source: string, schema: Schema): CompiledExpression {
  if (typeof source !== 'string') throw new ExpressionError(`an expression must be text, got ${typeof source}`, 1);
  if (source.trim() === '') throw new ExpressionError('the expression is empty at column 1; write e.g. views > 0', 1);
  const ast = parse(source);
  const typed = new Checker(schema).check(ast);
  const { evaluate } = generate(typed);
  return Object.freeze({ source, type: resultType(typed), evaluate });
}

export { ExpressionError };
