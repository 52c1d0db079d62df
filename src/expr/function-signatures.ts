import { ExpressionError } from '../core/errors.js';
import { TRUNC_UNITS, type TruncUnit } from './temporal.js';
import { coerceTemporalLiterals, compareType, typeName, unifyTypes, type ExprType, type TNode } from './typed-ast.js';

/** Where a call sits in the source, for error messages. */
export interface CallSite {
  readonly name: string;
  readonly col: number;
  /** Column of each argument. */
  readonly argCols: readonly number[];
}

export interface FunctionDef {
  readonly name: string;
  /** As shown in docs and arity errors, e.g. `substr(s, start[, length])`. */
  readonly signature: string;
  readonly minArgs: number;
  readonly maxArgs: number;
  check(args: TNode[], site: CallSite): TNode;
}

const NUMERIC: readonly ExprType[] = ['integer', 'number', 'decimal'];
const TEMPORAL: readonly ExprType[] = ['timestamp', 'date'];

function argError(site: CallSite, i: number, message: string, hint = ''): ExpressionError {
  const col = site.argCols[i] ?? site.col;
  return new ExpressionError(`${site.name}() ${message} at column ${col}${hint}`, col);
}

/** Checks argument i is one of `accepted` (the null literal always fits) and returns its type. */
function need(args: TNode[], site: CallSite, i: number, accepted: readonly ExprType[], hint = ''): ExprType {
  const t = args[i]!.type;
  if (t === 'null' || accepted.includes(t)) return t;
  const list = accepted.length === 1 ? `a ${accepted[0]}` : `${accepted.slice(0, -1).join(', ')} or ${accepted.at(-1)}`;
  throw argError(site, i, `expects ${list} as argument ${i + 1}, got ${typeName(t)}`, hint);
}

function literal(args: TNode[], site: CallSite, i: number, what: string): string | number {
  const a = args[i]!;
  if (a.k !== 'lit' || (typeof a.value !== 'string' && typeof a.value !== 'number')) throw argError(site, i, `needs ${what} written as a literal as argument ${i + 1}`);
  return a.value;
}

function call(type: ExprType, impl: string, args: TNode[], argTypes: ExprType[], total: boolean, consts: unknown[] = []): TNode {
  return { k: 'call', type, impl, args, argTypes, consts, total };
}

function retype(type: ExprType, arg: TNode): TNode {
  return { k: 'retype', type, arg };
}

const STRING_HINT = '; convert other types with to_string(x)';

function stringFn(name: string, impl: string, result: ExprType): FunctionDef {
  return {
    name, signature: `${name}(s)`, minArgs: 1, maxArgs: 1,
    check(args, site) {
      need(args, site, 0, ['string'], STRING_HINT);
      return call(result, impl, args, ['string'], true);
    },
  };
}

function stringPredicate(name: string): FunctionDef {
  return {
    name, signature: `${name}(s, part)`, minArgs: 2, maxArgs: 2,
    check(args, site) {
      need(args, site, 0, ['string'], STRING_HINT);
      need(args, site, 1, ['string'], STRING_HINT);
      return call('boolean', name, args, ['string', 'string'], true);
    },
  };
}

/** sqrt, ln, log10, exp: numbers in, number out; results that are not finite numbers are null. */
function mathFn(name: string): FunctionDef {
  return {
    name, signature: `${name}(x)`, minArgs: 1, maxArgs: 1,
    check(args, site) {
      need(args, site, 0, NUMERIC);
      return call('number', name, args, ['number'], false);
    },
  };
}

/** abs, floor, ceil: integers stay integers, decimals stay exact decimals. */
function numericKeepFn(name: string): FunctionDef {
  return {
    name, signature: `${name}(x)`, minArgs: 1, maxArgs: 1,
    check(args, site) {
      const t = need(args, site, 0, NUMERIC);
      if (t === 'null') return args[0]!;
      if (t === 'integer') return name === 'abs' ? call('integer', 'abs_num', args, ['integer'], true) : args[0]!;
      return t === 'decimal' ? call('decimal', `${name}_dec`, args, ['decimal'], true) : call('number', `${name}_num`, args, ['number'], true);
    },
  };
}

const PART_IMPLS: Record<string, string> = { year: 'year', month: 'month', day: 'day', hour: 'hour', minute: 'minute', second: 'second', day_of_week: 'dow' };

function datePartFn(name: string): FunctionDef {
  const part = PART_IMPLS[name]!;
  return {
    name, signature: `${name}(t)`, minArgs: 1, maxArgs: 1,
    check(args, site) {
      const t = need(args, site, 0, TEMPORAL);
      if (t === 'date') return call('integer', part === 'hour' || part === 'minute' || part === 'second' ? 'zero' : `date_${part}`, args, ['date'], true);
      return call('integer', `ts_${part}`, args, ['timestamp'], true);
    },
  };
}

function variadicType(args: TNode[], site: CallSite, combine: (a: ExprType, b: ExprType) => ExprType | null, what: string): ExprType {
  let t: ExprType = 'null';
  for (let i = 0; i < args.length; i++) {
    const next = combine(t, args[i]!.type);
    if (next === null) throw argError(site, i, `cannot mix ${typeName(t)} and ${typeName(args[i]!.type)} ${what}`);
    t = next;
  }
  return t;
}

function jsonPath(args: TNode[], site: CallSite): (string | number)[] {
  const keys: (string | number)[] = [];
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if (a.k !== 'lit' || !(a.type === 'string' || a.type === 'integer')) throw argError(site, i, `needs each key as a string literal (object key) or an integer literal (array index), argument ${i + 1} is not`);
    keys.push(a.value as string | number);
  }
  return keys;
}

const DEFS: FunctionDef[] = [
  stringFn('lower', 'lower', 'string'),
  stringFn('upper', 'upper', 'string'),
  stringFn('trim', 'trim', 'string'),
  stringFn('length', 'length', 'integer'),
  {
    name: 'substr', signature: 'substr(s, start[, length])', minArgs: 2, maxArgs: 3,
    check(args, site) {
      need(args, site, 0, ['string'], STRING_HINT);
      need(args, site, 1, ['integer']);
      if (args.length === 3) need(args, site, 2, ['integer']);
      return args.length === 3 ? call('string', 'substr3', args, ['string', 'integer', 'integer'], false) : call('string', 'substr2', args, ['string', 'integer'], true);
    },
  },
  {
    name: 'concat', signature: 'concat(a, b, …)', minArgs: 1, maxArgs: Infinity,
    check: (args) => ({ k: 'concat', type: 'string', args }),
  },
  {
    name: 'replace', signature: 'replace(s, from, to)', minArgs: 3, maxArgs: 3,
    check(args, site) {
      for (let i = 0; i < 3; i++) need(args, site, i, ['string'], STRING_HINT);
      return call('string', 'replace', args, ['string', 'string', 'string'], true);
    },
  },
  stringPredicate('starts_with'),
  stringPredicate('ends_with'),
  stringPredicate('contains'),
  {
    name: 'matches', signature: "matches(s, 'pattern'[, 'flags'])", minArgs: 2, maxArgs: 3,
    check(args, site) {
      need(args, site, 0, ['string'], STRING_HINT);
      const pattern = literal(args, site, 1, 'the regular expression');
      const flags = args.length === 3 ? literal(args, site, 2, 'the flags') : '';
      if (typeof pattern !== 'string') throw argError(site, 1, 'needs the regular expression as a string literal');
      if (typeof flags !== 'string' || !/^(?!.*(.).*\1)[imsu]*$/.test(flags)) throw argError(site, 2, "accepts only the flags 'i', 'm', 's' and 'u'");
      let re: RegExp;
      try {
        re = new RegExp(pattern, flags);
      } catch (err) {
        throw argError(site, 1, `has an invalid regular expression: ${(err as Error).message}`);
      }
      return call('boolean', 'matches', [args[0]!], ['string'], true, [re]);
    },
  },
  {
    name: 'coalesce', signature: 'coalesce(a, b, …)', minArgs: 1, maxArgs: Infinity,
    check(args, site) {
      coerceTemporalLiterals(args, site.argCols);
      return { k: 'coalesce', type: variadicType(args, site, unifyTypes, 'in its arguments'), args };
    },
  },
  {
    name: 'if', signature: 'if(condition, then, else)', minArgs: 3, maxArgs: 3,
    check(args, site) {
      need(args, site, 0, ['boolean']);
      const branches = [args[1]!, args[2]!];
      coerceTemporalLiterals(branches, site.argCols.slice(1));
      [args[1], args[2]] = branches as [TNode, TNode];
      const type = unifyTypes(args[1]!.type, args[2]!.type);
      if (type === null) throw argError(site, 2, `cannot mix ${typeName(args[1]!.type)} and ${typeName(args[2]!.type)} in its branches`);
      return { k: 'case', type, whens: [{ cond: args[0]!, then: args[1]! }], otherwise: args[2]! };
    },
  },
  {
    name: 'nullif', signature: 'nullif(a, b)', minArgs: 2, maxArgs: 2,
    check(args, site) {
      coerceTemporalLiterals(args, site.argCols);
      const via = compareType(args[0]!.type, args[1]!.type);
      if (via === null) throw argError(site, 1, `cannot compare ${typeName(args[0]!.type)} with ${typeName(args[1]!.type)}`);
      return { k: 'nullif', type: args[0]!.type, via, left: args[0]!, right: args[1]! };
    },
  },
  numericKeepFn('abs'),
  {
    name: 'round', signature: 'round(x[, digits])', minArgs: 1, maxArgs: 2,
    check(args, site) {
      const t = need(args, site, 0, NUMERIC);
      if (args.length === 2) need(args, site, 1, ['integer']);
      if (t === 'null') return args[0]!;
      if (t === 'decimal') return args.length === 2 ? call('decimal', 'round_dec2', args, ['decimal', 'integer'], true) : call('decimal', 'round_dec', args, ['decimal'], true);
      if (t === 'integer') return args.length === 2 ? call('integer', 'round_int2', args, ['integer', 'integer'], false) : args[0]!;
      return args.length === 2 ? call('number', 'round_num2', args, ['number', 'integer'], false) : call('number', 'round_num', args, ['number'], true);
    },
  },
  numericKeepFn('floor'),
  numericKeepFn('ceil'),
  mathFn('sqrt'),
  mathFn('ln'),
  mathFn('log10'),
  mathFn('exp'),
  {
    name: 'pow', signature: 'pow(x, y)', minArgs: 2, maxArgs: 2,
    check(args, site) {
      need(args, site, 0, NUMERIC);
      need(args, site, 1, NUMERIC);
      return call('number', 'pow', args, ['number', 'number'], false);
    },
  },
  ...(['least', 'greatest'] as const).map((which): FunctionDef => ({
    name: which, signature: `${which}(a, b, …)`, minArgs: 1, maxArgs: Infinity,
    check(args, site) {
      coerceTemporalLiterals(args, site.argCols);
      const type = variadicType(args, site, compareType, 'in its arguments (they must be comparable)');
      return { k: 'extreme', type, which, args };
    },
  })),
  {
    name: 'date', signature: 'date(t)', minArgs: 1, maxArgs: 1,
    check(args, site) {
      const t = need(args, site, 0, ['timestamp', 'date', 'string']);
      if (t === 'date' || t === 'null') return retype('date', args[0]!);
      return t === 'string' ? call('date', 'parse_date', args, ['string'], false) : call('date', 'ts_date', args, ['timestamp'], true);
    },
  },
  ...['year', 'month', 'day', 'hour', 'minute', 'second', 'day_of_week'].map(datePartFn),
  {
    name: 'date_trunc', signature: "date_trunc('unit', t)", minArgs: 2, maxArgs: 2,
    check(args, site) {
      const unit = literal(args, site, 0, `the unit (${TRUNC_UNITS.join(', ')})`);
      if (typeof unit !== 'string' || !(TRUNC_UNITS as readonly string[]).includes(unit.toLowerCase())) throw argError(site, 0, `accepts the units ${TRUNC_UNITS.join(', ')}; got ${String(unit)}`);
      need(args, site, 1, TEMPORAL);
      return call('timestamp', `trunc_${unit.toLowerCase() as TruncUnit}`, [args[1]!], ['timestamp'], true);
    },
  },
  {
    name: 'epoch_ms', signature: 'epoch_ms(t)', minArgs: 1, maxArgs: 1,
    check(args, site) {
      const t = need(args, site, 0, TEMPORAL);
      return t === 'date' ? call('integer', 'date_ms', args, ['date'], true) : retype('integer', args[0]!);
    },
  },
  {
    name: 'to_string', signature: 'to_string(x)', minArgs: 1, maxArgs: 1,
    check(args) {
      const t = args[0]!.type;
      if (t === 'string' || t === 'decimal' || t === 'date' || t === 'null') return retype('string', args[0]!);
      return call('string', `${t}_text`, args, [t], true);
    },
  },
  {
    name: 'to_number', signature: 'to_number(x)', minArgs: 1, maxArgs: 1,
    check(args, site) {
      const t = need(args, site, 0, ['string', 'integer', 'number', 'decimal']);
      if (t === 'string') return call('number', 'parse_number', args, ['string'], false);
      return t === 'decimal' ? call('number', 'dec_num', args, ['decimal'], true) : retype('number', args[0]!);
    },
  },
  {
    name: 'to_integer', signature: 'to_integer(x)', minArgs: 1, maxArgs: 1,
    check(args, site) {
      const t = need(args, site, 0, ['string', 'integer', 'number', 'decimal']);
      if (t === 'integer' || t === 'null') return retype('integer', args[0]!);
      return call('integer', t === 'string' ? 'parse_integer' : t === 'decimal' ? 'dec_int' : 'num_int', args, [t], false);
    },
  },
  {
    name: 'json_get', signature: "json_get(j, 'key'|index, …)", minArgs: 2, maxArgs: Infinity,
    check(args, site) {
      need(args, site, 0, ['json']);
      return call('json', 'json_get', [args[0]!], ['json'], false, [jsonPath(args, site)]);
    },
  },
  {
    name: 'json_text', signature: "json_text(j[, 'key'|index, …])", minArgs: 1, maxArgs: Infinity,
    check(args, site) {
      need(args, site, 0, ['json']);
      return call('string', 'json_path_text', [args[0]!], ['json'], false, [jsonPath(args, site)]);
    },
  },
];

/** Keyed by lower-case name in a Map, so no name can resolve through Object.prototype. */
export const FUNCTIONS: ReadonlyMap<string, FunctionDef> = new Map(DEFS.map((d) => [d.name, d]));
