import type { Row, Value } from '../core/schema.js';
import { hasLibraryFunction, LIBRARY } from './function-library.js';
import type { ExprType, TNode } from './typed-ast.js';

/**
 * Turns a checked tree into one JavaScript function. Safety rests on what may appear in the generated
 * text: `r[<integer>]` for columns, `c[<integer>]` for constants (strings, regexes, sets), number
 * literals printed from finite doubles, our own operators, temporaries `t<integer>`, and `f.<name>`
 * where the name is a key of the frozen library checked against /^[a-z0-9_]+$/. No text the user wrote
 * is ever copied into the code, so there is nothing to escape and nothing to inject.
 *
 * Long lists (and/or chains, in-lists, case branches, coalesce arguments) are emitted as flat
 * left-associative `||` chains or comma sequences, never as nested ternaries, so the JavaScript parser
 * does not recurse once per element.
 */

const SAFE = '9007199254740991';
const JS_COMPARE: Record<string, string> = { '=': '===', '!=': '!==', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };
const SET_THRESHOLD = 8;
const TERNARY_LIMIT = 32;

class InternalError extends Error {}

export type Evaluator = (row: Row) => Value;

class Generator {
  readonly consts: unknown[] = [];
  private temps = 0;

  temp(): string {
    return `t${this.temps++}`;
  }

  tempDeclarations(): string {
    if (this.temps === 0) return '';
    return `let ${Array.from({ length: this.temps }, (_, i) => `t${i}`).join(', ')};`;
  }

  constant(value: unknown): string {
    this.consts.push(value);
    return `c[${this.consts.length - 1}]`;
  }

  private fn(name: string): string {
    if (!hasLibraryFunction(name)) throw new InternalError(`expression library has no function ${JSON.stringify(name)}`);
    return `f.${name}`;
  }

  literal(value: unknown): string {
    if (value === null) return 'null';
    if (typeof value === 'boolean') return value ? 'true' : 'false';
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new InternalError('non-finite literal');
      return `(${JSON.stringify(value)})`;
    }
    return this.constant(value);
  }

  convert(ref: string, from: ExprType, to: ExprType): string {
    if (from === to || from === 'null' || to === 'null') return ref;
    if (from === 'integer' && to === 'number') return ref;
    if (from === 'decimal' && to === 'number') return `${this.fn('to_num')}(${ref})`;
    if (from === 'date' && to === 'timestamp') return `${this.fn('to_ms')}(${ref})`;
    throw new InternalError(`no conversion from ${from} to ${to}`);
  }

  nullable(n: TNode): boolean {
    switch (n.k) {
      case 'lit': return n.value === null;
      case 'col': return true;
      case 'retype': case 'neg': case 'not': return this.nullable(n.arg);
      case 'arith': return n.type === 'number' || n.op === '%' || this.nullable(n.left) || this.nullable(n.right);
      case 'cmp': return this.nullable(n.left) || this.nullable(n.right);
      case 'logic': return n.args.some((a) => this.nullable(a));
      case 'isnull': case 'concat': return false;
      case 'in': return this.nullable(n.arg) || n.items.some((i) => this.nullable(i));
      case 'case': return this.nullable(n.otherwise) || n.whens.some((w) => this.nullable(w.then));
      case 'coalesce': case 'extreme': return n.args.every((a) => this.nullable(a));
      case 'call': return !n.total || n.args.some((a) => this.nullable(a));
      case 'between': case 'nullif': return true;
    }
  }

  /**
   * Evaluates operands once each, yields null as soon as one is null (SQL's strict operators), and
   * otherwise runs `body` with references to the non-null values.
   */
  strict(operands: readonly TNode[], body: (refs: string[]) => string): string {
    const conditions: string[] = [];
    const refs: string[] = [];
    for (const op of operands) {
      if (op.k === 'lit') {
        if (op.value === null) return 'null';
        refs.push(this.literal(op.value));
      } else if (op.k === 'col') {
        const ref = `r[${op.index}]`;
        conditions.push(`${ref} === null`);
        refs.push(ref);
      } else {
        const t = this.temp();
        conditions.push(this.nullable(op) ? `(${t} = ${this.gen(op)}) === null` : `(${t} = ${this.gen(op)}, false)`);
        refs.push(t);
      }
    }
    const code = body(refs);
    return conditions.length === 0 ? `(${code})` : `(${conditions.join(' || ')} ? null : ${code})`;
  }

  compare(op: string, a: string, b: string, from: [ExprType, ExprType], via: ExprType): string {
    if (via === 'decimal') return `${this.fn('dcmp')}(${a}, ${b}) ${JS_COMPARE[op]} 0`;
    return `${this.convert(a, from[0], via)} ${JS_COMPARE[op]} ${this.convert(b, from[1], via)}`;
  }

  gen(n: TNode): string {
    switch (n.k) {
      case 'lit': return this.literal(n.value);
      case 'col': return `r[${n.index}]`;
      case 'retype': return this.gen(n.arg);
      case 'neg': return this.strict([n.arg], ([a]) => `0 - ${this.convert(a!, n.arg.type, 'number')}`);
      case 'arith': return this.arith(n);
      case 'cmp': return this.strict([n.left, n.right], ([a, b]) => this.compare(n.op, a!, b!, [n.left.type, n.right.type], n.via));
      case 'logic': return this.logic(n.op, n.args);
      case 'not': {
        if (!this.nullable(n.arg)) return `!${this.gen(n.arg)}`;
        const t = this.temp();
        return `((${t} = ${this.gen(n.arg)}) === null ? null : !${t})`;
      }
      case 'isnull': return `(${this.gen(n.arg)} ${n.negated ? '!==' : '==='} null)`;
      case 'in': return this.inList(n);
      case 'between': return this.between(n);
      case 'case': return this.caseExpr(n);
      case 'coalesce': {
        const v = this.temp();
        const parts = n.args.map((a, i) => `(${v} = ${this.convert(this.gen(a), a.type, n.type)})${i < n.args.length - 1 ? ' !== null' : ''}`);
        return `(${parts.join(' || ')}, ${v})`;
      }
      case 'nullif': {
        const a = this.temp(), b = this.temp();
        return `((${a} = ${this.gen(n.left)}) === null ? null : (${b} = ${this.gen(n.right)}) === null ? ${a} : ${this.compare('=', a, b, [n.left.type, n.right.type], n.via)} ? null : ${a})`;
      }
      case 'extreme': {
        const v = this.temp();
        const pick = this.fn(`${n.which}_${n.type === 'decimal' ? 'dec' : 'plain'}`);
        const parts = n.args.map((a, i) => {
          const value = this.convert(this.gen(a), a.type, n.type);
          return i === 0 ? `${v} = ${value}` : `${v} = ${pick}(${v}, ${value})`;
        });
        return `(${parts.join(', ')}, ${v})`;
      }
      case 'concat': return `(${['""', ...n.args.map((a) => this.text(a))].join(' + ')})`;
      case 'call': return this.strict(n.args, (refs) => {
        const args = refs.map((ref, i) => this.convert(ref, n.args[i]!.type, n.argTypes[i]!));
        for (const c of n.consts) args.push(this.constant(c));
        return `${this.fn(n.impl)}(${args.join(', ')})`;
      });
    }
  }

  /** Text of a value for concat: null becomes '' like PostgreSQL's concat. */
  private text(a: TNode): string {
    if (a.type === 'null') return '""';
    const direct = a.type === 'string' || a.type === 'decimal' || a.type === 'date';
    const t = this.temp();
    const asText = direct ? t : `${this.fn(`${a.type}_text`)}(${t})`;
    return `((${t} = ${this.gen(a)}) === null ? "" : ${asText})`;
  }

  private arith(n: Extract<TNode, { k: 'arith' }>): string {
    return this.strict([n.left, n.right], ([a0, b0]) => {
      const a = this.convert(a0!, n.left.type, 'number'), b = this.convert(b0!, n.right.type, 'number');
      const t = this.temp();
      if (n.type === 'integer') {
        if (n.op === '%') return `${b} === 0 ? null : ${a} % ${b} + 0`;
        return `(${t} = ${a} ${n.op} ${b}) <= ${SAFE} && ${t} >= -${SAFE} ? ${t} : ${this.fn('overflow')}(${n.col}, ${JSON.stringify(n.op)})`;
      }
      const finite = `(${t} = ${a} ${n.op} ${b}) - ${t} === 0 ? ${t} : null`;
      return n.op === '/' || n.op === '%' ? `${b} === 0 ? null : ${finite}` : finite;
    });
  }

  /** SQL three-valued and/or as a flat chain: any false (and) / true (or) decides; else any null gives null. */
  private logic(op: 'and' | 'or', args: readonly TNode[]): string {
    if (!args.some((a) => this.nullable(a))) return `(${args.map((a) => this.gen(a)).join(op === 'and' ? ' && ' : ' || ')})`;
    const decisive = op === 'and' ? 'false' : 'true';
    const temps: string[] = [];
    const tests = args.map((a) => {
      if (!this.nullable(a)) return `${this.gen(a)} === ${decisive}`;
      const t = this.temp();
      temps.push(t);
      return `(${t} = ${this.gen(a)}) === ${decisive}`;
    });
    const other = op === 'and' ? 'true' : 'false';
    return `(${tests.join(' || ')} ? ${decisive} : ${temps.map((t) => `${t} === null`).join(' || ')} ? null : ${other})`;
  }

  private inList(n: Extract<TNode, { k: 'in' }>): string {
    const found = n.negated ? 'false' : 'true', missing = n.negated ? 'true' : 'false';
    const allLiterals = n.items.every((i) => i.k === 'lit' && i.value !== null);
    return this.strict([n.arg], ([a0]) => {
      const a = this.convert(a0!, n.arg.type, n.via);
      if (allLiterals && n.via !== 'decimal' && n.items.length > SET_THRESHOLD) {
        const set = new Set(n.items.map((i) => (i as Extract<TNode, { k: 'lit' }>).value));
        return `${this.constant(set)}.has(${a}) ? ${found} : ${missing}`;
      }
      const sawNull = this.temp();
      const tests = n.items.map((item) => {
        if (item.k === 'lit' || item.k === 'col' || !this.nullable(item)) {
          if (item.k === 'lit' && item.value === null) return `(${sawNull} = true, false)`;
          const ref = this.gen(item);
          if (item.k === 'col') return `(${ref} === null ? (${sawNull} = true, false) : ${this.compare('=', a0!, ref, [n.arg.type, item.type], n.via)})`;
          return this.compare('=', a0!, ref, [n.arg.type, item.type], n.via);
        }
        const t = this.temp();
        return `((${t} = ${this.gen(item)}) === null ? (${sawNull} = true, false) : ${this.compare('=', a0!, t, [n.arg.type, item.type], n.via)})`;
      });
      return `(${sawNull} = false, ${tests.join(' || ')} ? ${found} : ${sawNull} ? null : ${missing})`;
    });
  }

  private between(n: Extract<TNode, { k: 'between' }>): string {
    const [yes, no] = n.negated ? ['false', 'true'] : ['true', 'false'];
    return this.strict([n.arg], ([a]) => {
      const bound = (node: TNode, op: '>=' | '<='): string => {
        if (node.k === 'lit' && node.value === null) return 'null';
        const t = this.temp();
        return `(${t} = ${this.gen(node)}) === null ? null : ${this.compare(op, a!, t, [n.arg.type, node.type], n.via)}`;
      };
      const lo = this.temp(), hi = this.temp();
      return `(${lo} = ${bound(n.low, '>=')}, ${hi} = ${bound(n.high, '<=')}, ${lo} === false || ${hi} === false ? ${no} : ${lo} === null || ${hi} === null ? null : ${yes})`;
    });
  }

  private caseExpr(n: Extract<TNode, { k: 'case' }>): string {
    const value = (b: TNode) => this.convert(this.gen(b), b.type, n.type);
    if (n.whens.length <= TERNARY_LIMIT) {
      const parts = n.whens.map((w) => `${this.gen(w.cond)} === true ? ${value(w.then)} : `);
      return `(${parts.join('')}${value(n.otherwise)})`;
    }
    const v = this.temp();
    const parts = n.whens.map((w) => `(${this.gen(w.cond)} === true && (${v} = ${value(w.then)}, true))`);
    return `((${parts.join(' || ')} || (${v} = ${value(n.otherwise)}, true)), ${v})`;
  }
}

/** Compiles a checked tree to a row evaluator; `source` is the generated JavaScript, for tests and debugging. */
export function generate(root: TNode): { evaluate: Evaluator; source: string } {
  const g = new Generator();
  const expr = g.gen(root);
  const body = `"use strict"; return function evaluate(r) { ${g.tempDeclarations()} return ${expr}; };`;
  const consts = Object.freeze(g.consts.slice());
  const factory = new Function('f', 'c', body) as (f: typeof LIBRARY, c: readonly unknown[]) => Evaluator;
  return { evaluate: factory(LIBRARY, consts), source: body };
}
