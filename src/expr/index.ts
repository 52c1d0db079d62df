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
import type { TNode } from './typed-ast.js';
import { Checker, resultType } from './checker.js';
import { generate } from './codegen.js';
import { FUNCTIONS } from './function-signatures.js';
import { parse } from './parser.js';

export interface CompiledExpression {
  readonly source: string;
  readonly type: FieldType;
  /** Names of the columns the expression reads, each once, in schema order (for column pruning). */
  readonly columns: readonly string[];
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
  return Object.freeze({ source, type: resultType(typed), columns: Object.freeze(referencedColumns(typed, schema)), evaluate });
}

/**
 * Every column index a checked tree reads. The walk is generic over node fields, so a node kind added
 * later cannot hide a column from it: at worst it over-counts, which only makes pruning decode more.
 */
function referencedColumns(root: TNode, schema: Schema): string[] {
  const used = new Set<number>();
  const seen = new Set<object>();
  const visit = (value: unknown): void => {
    if (typeof value !== 'object' || value === null || seen.has(value)) return;
    seen.add(value);
    const node = value as { k?: unknown; index?: unknown };
    if (node.k === 'col' && typeof node.index === 'number') used.add(node.index);
    for (const child of Array.isArray(value) ? value : Object.values(value)) visit(child);
  };
  visit(root);
  return [...used].sort((a, b) => a - b).map((i) => schema[i]!.name);
}

export { ExpressionError };
