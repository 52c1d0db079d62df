import { ExpressionError } from '../core/errors.js';
import type { ArithOp, Ast, CompareOp } from './ast.js';
import { quoteForMessage, tokenize, type Token } from './lexer.js';

/**
 * Both the parser's recursion and the height of the tree it builds are bounded, so the checker and the
 * code generator (both recursive) can never overflow the stack, however the input is shaped.
 */
export const MAX_NESTING = 256;

const COMPARE_OPS: Record<string, CompareOp> = { '=': '=', '==': '=', '!=': '!=', '<>': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

function describe(token: Token): string {
  switch (token.kind) {
    case 'end': return 'end of expression';
    case 'string': return `string ${quoteForMessage(token.text)}`;
    case 'quoted': return `column \`${token.text}\``;
    case 'number': return `number ${token.text}`;
    default: return `'${token.text}'`;
  }
}

class Parser {
  private pos = 0;
  private depth = 0;
  private readonly heights = new WeakMap<Ast, number>();

  constructor(private readonly tokens: Token[]) {}

  parse(): Ast {
    const ast = this.expression();
    const next = this.peek();
    if (next.kind !== 'end') {
      const hint = next.kind === 'op' && COMPARE_OPS[next.text] !== undefined ? ' (comparisons cannot be chained; combine them with and)' : '; expected an operator, and, or or the end';
      throw this.error(`unexpected ${describe(next)} at column ${next.col}${hint}`, next);
    }
    return ast;
  }

  private peek(): Token {
    return this.tokens[this.pos]!;
  }
  private next(): Token {
    return this.tokens[this.pos++]!;
  }
  private isKeyword(word: string, offset = 0): boolean {
    const t = this.tokens[this.pos + offset];
    return t !== undefined && t.kind === 'keyword' && t.text === word;
  }
  private isPunct(ch: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === ch;
  }
  private error(message: string, token: Token): ExpressionError {
    return new ExpressionError(message, token.col);
  }
  private expect(kind: 'punct' | 'keyword', text: string, context: string): Token {
    const t = this.peek();
    if (t.kind !== kind || t.text !== text) throw this.error(`expected '${text}' ${context} at column ${t.col}, found ${describe(t)}`, t);
    return this.next();
  }

  /** Records a node's height and rejects trees taller than MAX_NESTING. */
  private made<T extends Ast>(node: T, children: readonly Ast[]): T {
    let h = 0;
    for (const c of children) h = Math.max(h, this.heights.get(c) ?? 1);
    if (h + 1 > MAX_NESTING) throw new ExpressionError(`expression nests too deeply at column ${node.col}: at most ${MAX_NESTING} levels of operators, calls and parentheses are allowed`, node.col);
    this.heights.set(node, h + 1);
    return node;
  }

  private enter(token: Token): void {
    if (++this.depth > MAX_NESTING) throw new ExpressionError(`expression nests too deeply at column ${token.col}: at most ${MAX_NESTING} levels of operators, calls and parentheses are allowed`, token.col);
  }

  private expression(): Ast {
    this.enter(this.peek());
    try {
      return this.or();
    } finally {
      this.depth--;
    }
  }

  private or(): Ast {
    const first = this.and();
    if (!this.isKeyword('or')) return first;
    const args = [first];
    while (this.isKeyword('or')) {
      this.next();
      args.push(this.and());
    }
    return this.made({ k: 'logic', col: first.col, op: 'or', args }, args);
  }

  private and(): Ast {
    const first = this.not();
    if (!this.isKeyword('and')) return first;
    const args = [first];
    while (this.isKeyword('and')) {
      this.next();
      args.push(this.not());
    }
    return this.made({ k: 'logic', col: first.col, op: 'and', args }, args);
  }

  private not(): Ast {
    if (!this.isKeyword('not')) return this.comparison();
    const token = this.next();
    this.enter(token);
    try {
      const arg = this.not();
      return this.made({ k: 'not', col: token.col, arg }, [arg]);
    } finally {
      this.depth--;
    }
  }

  private comparison(): Ast {
    const left = this.additive();
    const t = this.peek();
    if (t.kind === 'op' && COMPARE_OPS[t.text] !== undefined) {
      this.next();
      const right = this.additive();
      return this.made({ k: 'compare', col: t.col, op: COMPARE_OPS[t.text]!, left, right }, [left, right]);
    }
    if (this.isKeyword('is')) {
      this.next();
      const negated = this.isKeyword('not');
      if (negated) this.next();
      this.expect('keyword', 'null', `after 'is${negated ? ' not' : ''}'`);
      return this.made({ k: 'isnull', col: t.col, negated, arg: left }, [left]);
    }
    const negated = this.isKeyword('not') && (this.isKeyword('in', 1) || this.isKeyword('between', 1));
    if (negated) this.next();
    if (this.isKeyword('in')) {
      this.next();
      this.expect('punct', '(', "after 'in'");
      const items = [this.expression()];
      while (this.isPunct(',')) {
        this.next();
        items.push(this.expression());
      }
      this.expect('punct', ')', "to close the 'in' list");
      return this.made({ k: 'in', col: t.col, negated, arg: left, items }, [left, ...items]);
    }
    if (this.isKeyword('between')) {
      this.next();
      const low = this.additive();
      this.expect('keyword', 'and', "in 'between … and …'");
      const high = this.additive();
      return this.made({ k: 'between', col: t.col, negated, arg: left, low, high }, [left, low, high]);
    }
    return left;
  }

  private additive(): Ast {
    let left = this.multiplicative();
    for (let t = this.peek(); t.kind === 'op' && (t.text === '+' || t.text === '-'); t = this.peek()) {
      this.next();
      const right = this.multiplicative();
      left = this.made({ k: 'arith', col: t.col, op: t.text as ArithOp, left, right }, [left, right]);
    }
    return left;
  }

  private multiplicative(): Ast {
    let left = this.unary();
    for (let t = this.peek(); t.kind === 'op' && (t.text === '*' || t.text === '/' || t.text === '%'); t = this.peek()) {
      this.next();
      const right = this.unary();
      left = this.made({ k: 'arith', col: t.col, op: t.text as ArithOp, left, right }, [left, right]);
    }
    return left;
  }

  private unary(): Ast {
    const t = this.peek();
    if (t.kind === 'op' && t.text === '-') {
      this.next();
      this.enter(t);
      try {
        const arg = this.unary();
        return this.made({ k: 'neg', col: t.col, arg }, [arg]);
      } finally {
        this.depth--;
      }
    }
    return this.primary();
  }

  private primary(): Ast {
    const t = this.next();
    switch (t.kind) {
      case 'number':
        return { k: 'number', col: t.col, text: t.text, real: t.real === true };
      case 'string':
        return { k: 'string', col: t.col, value: t.text };
      case 'quoted':
        return { k: 'column', col: t.col, name: t.text };
      case 'ident':
        if (this.isPunct('(')) return this.call(t);
        return { k: 'column', col: t.col, name: t.text };
      case 'keyword':
        if (t.text === 'true' || t.text === 'false') return { k: 'bool', col: t.col, value: t.text === 'true' };
        if (t.text === 'null') return { k: 'null', col: t.col };
        if (t.text === 'case') return this.caseExpr(t);
        break;
      case 'punct':
        if (t.text === '(') {
          const inner = this.expression();
          this.expect('punct', ')', `to close the '(' at column ${t.col}`);
          return inner;
        }
        break;
      default:
        break;
    }
    const hint = t.kind === 'keyword' ? ` (${t.text} is a keyword: write \`${t.text}\` for a column of that name)` : '';
    throw this.error(`unexpected ${describe(t)} at column ${t.col}; expected a value, a column or a function call${hint}`, t);
  }

  private call(name: Token): Ast {
    this.next();
    const args: Ast[] = [];
    if (!this.isPunct(')')) {
      args.push(this.expression());
      while (this.isPunct(',')) {
        this.next();
        args.push(this.expression());
      }
    }
    this.expect('punct', ')', `to close the call to ${name.text}() at column ${name.col}`);
    return this.made({ k: 'call', col: name.col, name: name.text, args }, args);
  }

  private caseExpr(start: Token): Ast {
    const whens: { cond: Ast; then: Ast }[] = [];
    if (!this.isKeyword('when')) throw this.error(`expected 'when' after 'case' at column ${this.peek().col}, found ${describe(this.peek())}`, this.peek());
    while (this.isKeyword('when')) {
      this.next();
      const cond = this.expression();
      this.expect('keyword', 'then', "after the 'when' condition");
      whens.push({ cond, then: this.expression() });
    }
    let otherwise: Ast | null = null;
    if (this.isKeyword('else')) {
      this.next();
      otherwise = this.expression();
    }
    this.expect('keyword', 'end', `to close the 'case' at column ${start.col}`);
    const children = whens.flatMap((w) => [w.cond, w.then]);
    if (otherwise) children.push(otherwise);
    return this.made({ k: 'case', col: start.col, whens, otherwise }, children);
  }
}

export function parse(source: string): Ast {
  return new Parser(tokenize(source)).parse();
}
