/** Syntax tree as parsed, before types are known. `col` is the 1-based column the construct starts at. */
export type ArithOp = '+' | '-' | '*' | '/' | '%';
export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

export type Ast =
  | { readonly k: 'number'; readonly col: number; readonly text: string; readonly real: boolean }
  | { readonly k: 'string'; readonly col: number; readonly value: string }
  | { readonly k: 'bool'; readonly col: number; readonly value: boolean }
  | { readonly k: 'null'; readonly col: number }
  | { readonly k: 'column'; readonly col: number; readonly name: string }
  | { readonly k: 'neg'; readonly col: number; readonly arg: Ast }
  | { readonly k: 'arith'; readonly col: number; readonly op: ArithOp; readonly left: Ast; readonly right: Ast }
  | { readonly k: 'compare'; readonly col: number; readonly op: CompareOp; readonly left: Ast; readonly right: Ast }
  | { readonly k: 'logic'; readonly col: number; readonly op: 'and' | 'or'; readonly args: readonly Ast[] }
  | { readonly k: 'not'; readonly col: number; readonly arg: Ast }
  | { readonly k: 'isnull'; readonly col: number; readonly negated: boolean; readonly arg: Ast }
  | { readonly k: 'in'; readonly col: number; readonly negated: boolean; readonly arg: Ast; readonly items: readonly Ast[] }
  | { readonly k: 'between'; readonly col: number; readonly negated: boolean; readonly arg: Ast; readonly low: Ast; readonly high: Ast }
  | { readonly k: 'case'; readonly col: number; readonly whens: readonly { readonly cond: Ast; readonly then: Ast }[]; readonly otherwise: Ast | null }
  | { readonly k: 'call'; readonly col: number; readonly name: string; readonly args: readonly Ast[] };
