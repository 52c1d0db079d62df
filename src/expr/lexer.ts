import { ExpressionError } from '../core/errors.js';

export type TokenKind = 'number' | 'string' | 'ident' | 'quoted' | 'keyword' | 'op' | 'punct' | 'end';

export interface Token {
  readonly kind: TokenKind;
  /** Keywords are lower-cased; identifiers, strings and quoted names are the decoded text. */
  readonly text: string;
  /** 1-based column of the token's first character in the expression source. */
  readonly col: number;
  /** For numbers: whether the literal had a fraction or exponent (then it is a `number`, not an `integer`). */
  readonly real?: boolean;
}

export const KEYWORDS: ReadonlySet<string> = new Set([
  'and', 'or', 'not', 'is', 'null', 'true', 'false', 'in', 'between', 'case', 'when', 'then', 'else', 'end',
]);

const OPERATORS = ['==', '!=', '<>', '<=', '>=', '=', '<', '>', '+', '-', '*', '/', '%'] as const;

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** Escapes a string for an error message so that control characters stay visible. */
export function quoteForMessage(text: string): string {
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return `'${shown.replace(/[\u0000-\u001f\u2028\u2029\\']/g, (ch) => (ch === "'" ? "\\'" : ch === '\\' ? '\\\\' : `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`))}'`;
}

const SIMPLE_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', "'": "'", '"': '"' };

function readString(src: string, start: number): { text: string; end: number } {
  const quote = src[start]!;
  let out = '';
  let i = start + 1;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === quote) {
      if (src[i + 1] === quote) {
        out += quote;
        i += 2;
        continue;
      }
      return { text: out, end: i + 1 };
    }
    if (ch === '\\' && i + 1 < src.length) {
      const next = src[i + 1]!;
      const simple = Object.hasOwn(SIMPLE_ESCAPES, next) ? SIMPLE_ESCAPES[next] : undefined;
      if (simple !== undefined) {
        out += simple;
        i += 2;
      } else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(src.slice(i + 2, i + 6))) {
        out += String.fromCharCode(parseInt(src.slice(i + 2, i + 6), 16));
        i += 6;
      } else {
        // Unknown escapes stay as written so regular expressions like '\d+' need no doubling.
        out += ch + next;
        i += 2;
      }
      continue;
    }
    out += ch;
    i++;
  }
  throw new ExpressionError(`unterminated string starting at column ${start + 1}; close it with ${quote}`, start + 1);
}

function readQuotedName(src: string, start: number): { text: string; end: number } {
  let out = '';
  let i = start + 1;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === '`') {
      if (src[i + 1] === '`') {
        out += '`';
        i += 2;
        continue;
      }
      if (out === '') throw new ExpressionError(`empty column name \`\` at column ${start + 1}`, start + 1);
      return { text: out, end: i + 1 };
    }
    out += ch;
    i++;
  }
  throw new ExpressionError(`unterminated column name starting at column ${start + 1}; close it with \``, start + 1);
}

function readNumber(src: string, start: number): { token: Token; end: number } {
  const match = /^\d+(\.\d+)?([eE][+-]?\d+)?/.exec(src.slice(start, start + 400))!;
  const text = match[0];
  const end = start + text.length;
  const after = src.charCodeAt(end);
  if (isIdentStart(after) || src[end] === '.') {
    throw new ExpressionError(`malformed number at column ${start + 1}: ${quoteForMessage(src.slice(start, end + 1))}`, start + 1);
  }
  return { token: { kind: 'number', text, col: start + 1, real: match[1] !== undefined || match[2] !== undefined }, end };
}

/** Splits an expression into tokens; the last token is always `end` at the column after the last character. */
export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  outer: while (i < src.length) {
    const c = src.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (isDigit(c)) {
      const { token, end } = readNumber(src, i);
      tokens.push(token);
      i = end;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < src.length && (isIdentStart(src.charCodeAt(j)) || isDigit(src.charCodeAt(j)))) j++;
      const word = src.slice(i, j);
      const lower = word.toLowerCase();
      tokens.push(KEYWORDS.has(lower) ? { kind: 'keyword', text: lower, col: i + 1 } : { kind: 'ident', text: word, col: i + 1 });
      i = j;
      continue;
    }
    const ch = src[i]!;
    if (ch === "'" || ch === '"') {
      const { text, end } = readString(src, i);
      tokens.push({ kind: 'string', text, col: i + 1 });
      i = end;
      continue;
    }
    if (ch === '`') {
      const { text, end } = readQuotedName(src, i);
      tokens.push({ kind: 'quoted', text, col: i + 1 });
      i = end;
      continue;
    }
    if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ kind: 'punct', text: ch, col: i + 1 });
      i++;
      continue;
    }
    for (const op of OPERATORS) {
      if (src.startsWith(op, i)) {
        tokens.push({ kind: 'op', text: op, col: i + 1 });
        i += op.length;
        continue outer;
      }
    }
    const hint = ch === '.' ? ' (the language has no member access; numbers need a digit before the point)' : ch === '|' || ch === '&' ? ' (use and / or, or concat(a, b) for strings)' : '';
    throw new ExpressionError(`unexpected character ${quoteForMessage(String.fromCodePoint(src.codePointAt(i)!))} at column ${i + 1}${hint}`, i + 1);
  }
  tokens.push({ kind: 'end', text: '', col: src.length + 1 });
  return tokens;
}
