import { ExpressionError } from '../core/errors.js';
import type { FieldType } from '../core/schema.js';
import type { ArithOp, CompareOp } from './ast.js';
import { parseDateDays, formatDays } from './temporal.js';
import { parseTimestampText } from '../core/timestamp-text.js';

/** A field type, or 'null' for the bare null literal, which fits any type. */
export type ExprType = FieldType | 'null';

/**
 * The checked tree the code generator works from. Where operands of different types meet (comparisons,
 * branches), `via` / `type` is the representation both sides are converted to before use.
 */
export type TNode =
  | { readonly k: 'lit'; readonly type: ExprType; readonly value: string | number | boolean | null }
  | { readonly k: 'col'; readonly type: FieldType; readonly index: number }
  | { readonly k: 'neg'; readonly type: 'integer' | 'number'; readonly arg: TNode }
  | { readonly k: 'arith'; readonly type: 'integer' | 'number'; readonly op: ArithOp; readonly left: TNode; readonly right: TNode; readonly col: number }
  | { readonly k: 'cmp'; readonly type: 'boolean'; readonly op: CompareOp; readonly via: ExprType; readonly left: TNode; readonly right: TNode }
  | { readonly k: 'logic'; readonly type: 'boolean'; readonly op: 'and' | 'or'; readonly args: readonly TNode[] }
  | { readonly k: 'not'; readonly type: 'boolean'; readonly arg: TNode }
  | { readonly k: 'isnull'; readonly type: 'boolean'; readonly negated: boolean; readonly arg: TNode }
  | { readonly k: 'in'; readonly type: 'boolean'; readonly negated: boolean; readonly via: ExprType; readonly arg: TNode; readonly items: readonly TNode[] }
  | { readonly k: 'between'; readonly type: 'boolean'; readonly negated: boolean; readonly via: ExprType; readonly arg: TNode; readonly low: TNode; readonly high: TNode }
  | { readonly k: 'case'; readonly type: ExprType; readonly whens: readonly { readonly cond: TNode; readonly then: TNode }[]; readonly otherwise: TNode }
  | { readonly k: 'coalesce'; readonly type: ExprType; readonly args: readonly TNode[] }
  | { readonly k: 'nullif'; readonly type: ExprType; readonly via: ExprType; readonly left: TNode; readonly right: TNode }
  | { readonly k: 'extreme'; readonly type: ExprType; readonly which: 'least' | 'greatest'; readonly args: readonly TNode[] }
  | { readonly k: 'concat'; readonly type: 'string'; readonly args: readonly TNode[] }
  | { readonly k: 'retype'; readonly type: ExprType; readonly arg: TNode }
  | {
      readonly k: 'call';
      readonly type: ExprType;
      /** Key in the runtime library (never user text). */
      readonly impl: string;
      readonly args: readonly TNode[];
      /** Representation each argument is converted to before the call. */
      readonly argTypes: readonly ExprType[];
      /** Compile-time values appended as extra arguments (compiled regex, JSON path…). */
      readonly consts: readonly unknown[];
      /** Never returns null for non-null arguments (lets the generator skip null checks). */
      readonly total: boolean;
    };

export function nullLiteral(type: ExprType): TNode {
  return { k: 'lit', type, value: null };
}

export function isNumeric(t: ExprType): boolean {
  return t === 'integer' || t === 'number' || t === 'decimal';
}

/** The type two values are compared as, or null when they cannot be compared. */
export function compareType(a: ExprType, b: ExprType): ExprType | null {
  if (a === 'null') return b === 'json' ? null : b;
  if (b === 'null') return a === 'json' ? null : a;
  if (isNumeric(a) && isNumeric(b)) return a === b ? a : 'number';
  if (a === 'json' || b === 'json') return null;
  if (a === b) return a;
  if ((a === 'date' && b === 'timestamp') || (a === 'timestamp' && b === 'date')) return 'timestamp';
  return null;
}

/** The type of a value that comes from one of several branches (case, if, coalesce), or null. */
export function unifyTypes(a: ExprType, b: ExprType): ExprType | null {
  if (a === 'json' && b === 'json') return 'json';
  return compareType(a, b);
}

export function typeName(t: ExprType): string {
  return t === 'null' ? 'null' : t;
}

/**
 * A string literal next to a date or timestamp is read as one, once, at compile time, so that
 * `ts >= '2026-01-01'` compares numbers per row instead of parsing text per row.
 */
export function coerceTemporalLiterals(nodes: TNode[], cols: readonly number[]): void {
  const anchor = nodes.some((n) => n.type === 'timestamp') ? 'timestamp' : nodes.some((n) => n.type === 'date') ? 'date' : null;
  if (anchor === null) return;
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    if (n.k !== 'lit' || n.type !== 'string' || typeof n.value !== 'string') continue;
    const days = anchor === 'date' ? parseDateDays(n.value) : NaN;
    if (!Number.isNaN(days)) {
      nodes[i] = { k: 'lit', type: 'date', value: formatDays(days) };
      continue;
    }
    const ms = parseTimestampText(n.value);
    if (Number.isNaN(ms)) {
      const col = cols[i]!;
      throw new ExpressionError(
        `'${n.value.slice(0, 40)}' at column ${col} is not a valid ${anchor}; write it like '2026-01-31'${anchor === 'timestamp' ? ", '2026-01-31 13:45:00' or '2026-01-31T13:45:00+01:00'" : ''}`,
        col,
      );
    }
    nodes[i] = { k: 'lit', type: 'timestamp', value: ms };
  }
}
