import { ExpressionError } from '../core/errors.js';
import type { FieldType, Schema } from '../core/schema.js';
import type { Ast } from './ast.js';
import { FUNCTIONS } from './function-signatures.js';
import { closest } from './suggest.js';
import { coerceTemporalLiterals, compareType, isNumeric, nullLiteral, typeName, unifyTypes, type ExprType, type TNode } from './typed-ast.js';

interface ColumnInfo {
  readonly index: number;
  readonly type: FieldType;
}

function fail(message: string, col: number): never {
  throw new ExpressionError(message, col);
}

/** Resolves names and types; every type error is found here, once, before any row is seen. */
export class Checker {
  /** A Map, not an object: a column named `constructor` or `__proto__` is just a name. */
  private readonly columns = new Map<string, ColumnInfo>();

  constructor(schema: Schema) {
    schema.forEach((f, index) => {
      if (!this.columns.has(f.name)) this.columns.set(f.name, { index, type: f.type });
    });
  }

  check(ast: Ast): TNode {
    switch (ast.k) {
      case 'number': return this.numberLiteral(ast.text, ast.real, ast.col);
      case 'string': return { k: 'lit', type: 'string', value: ast.value };
      case 'bool': return { k: 'lit', type: 'boolean', value: ast.value };
      case 'null': return nullLiteral('null');
      case 'column': return this.column(ast.name, ast.col);
      case 'neg': {
        const arg = this.check(ast.arg);
        if (arg.type === 'null') return nullLiteral('null');
        if (!isNumeric(arg.type)) fail(`cannot negate ${typeName(arg.type)} at column ${ast.col}; '-' needs integer, number or decimal`, ast.col);
        if (arg.k === 'lit' && typeof arg.value === 'number') return { k: 'lit', type: arg.type, value: arg.value === 0 ? 0 : -arg.value };
        return { k: 'neg', type: arg.type === 'integer' ? 'integer' : 'number', arg };
      }
      case 'arith': {
        const left = this.check(ast.left), right = this.check(ast.right);
        for (const side of [left, right]) {
          if (side.type === 'null' || isNumeric(side.type)) continue;
          const hint = ast.op === '+' && side.type === 'string' ? "; use concat(a, b) to join strings" : '; arithmetic needs integer, number or decimal operands';
          fail(`cannot apply '${ast.op}' to ${typeName(left.type)} and ${typeName(right.type)} at column ${ast.col}${hint}`, ast.col);
        }
        const type = ast.op !== '/' && (left.type === 'integer' || left.type === 'null') && (right.type === 'integer' || right.type === 'null') ? 'integer' : 'number';
        if (left.type === 'null' || right.type === 'null') return nullLiteral(type);
        return { k: 'arith', type, op: ast.op, left, right, col: ast.col };
      }
      case 'compare': {
        const sides = [this.check(ast.left), this.check(ast.right)];
        coerceTemporalLiterals(sides, [ast.left.col, ast.right.col]);
        const [left, right] = sides as [TNode, TNode];
        const via = compareType(left.type, right.type);
        if (via === null) this.compareError(left.type, right.type, ast.col);
        if (left.type === 'null' || right.type === 'null') return nullLiteral('boolean');
        return { k: 'cmp', type: 'boolean', op: ast.op, via, left, right };
      }
      case 'logic': {
        const args = ast.args.map((a) => this.booleanOperand(a, ast.op));
        return { k: 'logic', type: 'boolean', op: ast.op, args };
      }
      case 'not': return { k: 'not', type: 'boolean', arg: this.booleanOperand(ast.arg, 'not') };
      case 'isnull': return { k: 'isnull', type: 'boolean', negated: ast.negated, arg: this.check(ast.arg) };
      case 'in': {
        const nodes = [this.check(ast.arg), ...ast.items.map((i) => this.check(i))];
        coerceTemporalLiterals(nodes, [ast.arg.col, ...ast.items.map((i) => i.col)]);
        let via: ExprType = nodes[0]!.type;
        for (let i = 1; i < nodes.length; i++) {
          const next = compareType(via, nodes[i]!.type);
          if (next === null) this.compareError(nodes[0]!.type, nodes[i]!.type, ast.items[i - 1]!.col);
          via = next;
        }
        return { k: 'in', type: 'boolean', negated: ast.negated, via, arg: nodes[0]!, items: nodes.slice(1) };
      }
      case 'between': {
        const nodes = [this.check(ast.arg), this.check(ast.low), this.check(ast.high)];
        coerceTemporalLiterals(nodes, [ast.arg.col, ast.low.col, ast.high.col]);
        const [arg, low, high] = nodes as [TNode, TNode, TNode];
        const lowVia = compareType(arg.type, low.type);
        if (lowVia === null) this.compareError(arg.type, low.type, ast.col);
        const via = compareType(lowVia, high.type);
        if (via === null) this.compareError(arg.type, high.type, ast.col);
        return { k: 'between', type: 'boolean', negated: ast.negated, via, arg, low, high };
      }
      case 'case': {
        const whens = ast.whens.map((w) => ({ cond: this.booleanOperand(w.cond, 'when'), then: this.check(w.then) }));
        const results = [...whens.map((w) => w.then), ast.otherwise ? this.check(ast.otherwise) : nullLiteral('null')];
        coerceTemporalLiterals(results, [...ast.whens.map((w) => w.then.col), ast.otherwise?.col ?? ast.col]);
        const otherwise = results.pop()!;
        results.forEach((then, i) => (whens[i]!.then = then));
        let type: ExprType = otherwise.type;
        for (const w of whens) {
          const next = unifyTypes(type, w.then.type);
          if (next === null) fail(`case branches mix ${typeName(type)} and ${typeName(w.then.type)} at column ${ast.col}; every branch must have the same type (integer and number mix into number)`, ast.col);
          type = next;
        }
        return { k: 'case', type, whens, otherwise };
      }
      case 'call': return this.call(ast);
    }
  }

  private numberLiteral(text: string, real: boolean, col: number): TNode {
    const value = Number(text);
    if (!real) {
      if (!Number.isSafeInteger(value)) fail(`integer ${text} at column ${col} is outside ±9007199254740991; write ${text}.0 for a floating-point number`, col);
      return { k: 'lit', type: 'integer', value };
    }
    if (!Number.isFinite(value)) fail(`number ${text} at column ${col} is too large for a double`, col);
    return { k: 'lit', type: 'number', value };
  }

  private column(name: string, col: number): TNode {
    const info = this.columns.get(name);
    if (info) return { k: 'col', type: info.type, index: info.index };
    const names = [...this.columns.keys()];
    const guess = closest(name, names);
    const hint = guess !== null ? `; did you mean '${guess}'?` : names.length === 0 ? '; the input has no columns' : names.length <= 12 ? `; the columns are ${names.map((n) => `'${n}'`).join(', ')}` : '';
    const fn = FUNCTIONS.has(name.toLowerCase()) ? ` (${name.toLowerCase()} is a function: call it with parentheses)` : '';
    return fail(`unknown column '${name.slice(0, 60)}' at column ${col}${hint}${fn}`, col);
  }

  private booleanOperand(ast: Ast, context: string): TNode {
    const node = this.check(ast);
    if (node.type !== 'boolean' && node.type !== 'null') {
      fail(`'${context}' needs a boolean at column ${ast.col}, got ${typeName(node.type)}; compare it first, e.g. x > 0 or x is not null`, ast.col);
    }
    return node;
  }

  private compareError(a: ExprType, b: ExprType, col: number): never {
    const hint = a === 'json' || b === 'json' ? '; extract a value with json_text(j, …) or json_get(j, …) first' : a === 'string' || b === 'string' ? '; convert with to_number(…), to_string(…) or date(…)' : '';
    return fail(`cannot compare ${typeName(a)} with ${typeName(b)} at column ${col}${hint}`, col);
  }

  private call(ast: Extract<Ast, { k: 'call' }>): TNode {
    const name = ast.name.toLowerCase();
    const def = FUNCTIONS.get(name);
    if (!def) {
      const guess = closest(name, [...FUNCTIONS.keys()]);
      const column = this.columns.has(ast.name) ? ` ('${ast.name}' is a column, not a function)` : '';
      fail(`unknown function '${ast.name.slice(0, 60)}' at column ${ast.col}${guess ? `; did you mean '${guess}'?` : '; see FUNCTIONS in docs/expressions.md'}${column}`, ast.col);
    }
    const n = ast.args.length;
    if (n < def.minArgs || n > def.maxArgs) {
      const expected = def.minArgs === def.maxArgs ? `${def.minArgs}` : def.maxArgs === Infinity ? `at least ${def.minArgs}` : `${def.minArgs} to ${def.maxArgs}`;
      fail(`${def.name}() takes ${expected} argument${expected === '1' ? '' : 's'}, got ${n}, at column ${ast.col}: ${def.signature}`, ast.col);
    }
    const args = ast.args.map((a) => this.check(a));
    return def.check(args, { name: def.name, col: ast.col, argCols: ast.args.map((a) => a.col) });
  }
}

export function resultType(node: TNode): FieldType {
  // A bare null has no type of its own; as a derived column it is an always-null string.
  return node.type === 'null' ? 'string' : node.type;
}
