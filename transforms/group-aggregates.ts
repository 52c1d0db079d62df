import { TransformError } from '../src/core/errors.js';
import type { FieldType, Value } from '../src/core/schema.js';
import { addDecimal, decimalScale, decimalUnscaled, formatDecimal, pow10, type ScaledDecimal } from './decimal.js';
import { comparerFor } from './value-order.js';

export type AggregateKind = 'count' | 'sum' | 'min' | 'max' | 'avg';

/**
 * One aggregate column of `group`. States are plain values where possible (a number, not an object) so
 * a group costs few allocations; `merge` combines partial states read back from spill files, and
 * `encode`/`decode` turn a state into JSON for those files.
 */
export interface Aggregate {
  readonly name: string;
  readonly type: FieldType;
  /** Input column, or -1 for count(*). */
  readonly input: number;
  /** Rough bytes a fresh state holds, for the memory budget. */
  readonly bytes: number;
  init(): unknown;
  /** Folds one non-null input value (count(*) gets every row). */
  update(state: unknown, v: Value): unknown;
  merge(a: unknown, b: unknown): unknown;
  encode(state: unknown): unknown;
  decode(json: unknown): unknown;
  result(state: unknown): Value;
}

const identity = (x: unknown) => x;

function decimalState(json: unknown): ScaledDecimal | null {
  if (json === null) return null;
  const s = json as string;
  return { unscaled: decimalUnscaled(s), scale: decimalScale(s) };
}

function mergeDecimal(a: ScaledDecimal | null, b: ScaledDecimal | null): ScaledDecimal | null {
  if (a === null) return b;
  if (b === null) return a;
  const scale = Math.max(a.scale, b.scale);
  return { unscaled: a.unscaled * pow10(scale - a.scale) + b.unscaled * pow10(scale - b.scale), scale };
}

function safeSum(where: string, name: string): (s: number) => number {
  return (s) => {
    if (!Number.isSafeInteger(s)) {
      throw new TransformError(`${where}: the integer sum '${name}' passes ±2^53-1 (${s}); sum a decimal column instead`, { details: { where, value: s } });
    }
    return s;
  };
}

export function countAggregate(name: string): Aggregate {
  return {
    name, type: 'integer', input: -1, bytes: 16,
    init: () => 0,
    update: (s) => (s as number) + 1,
    merge: (a, b) => (a as number) + (b as number),
    encode: identity, decode: identity,
    result: (s) => s as number,
  };
}

export function sumAggregate(name: string, input: number, type: FieldType, where: string): Aggregate {
  if (type === 'decimal') {
    return {
      name, type: 'decimal', input, bytes: 96,
      init: () => null,
      update(s, v) {
        const acc = (s as ScaledDecimal | null) ?? { unscaled: 0n, scale: 0 };
        addDecimal(acc, v as string);
        return acc;
      },
      merge: (a, b) => mergeDecimal(a as ScaledDecimal | null, b as ScaledDecimal | null),
      encode: (s) => (s === null ? null : formatDecimal((s as ScaledDecimal).unscaled, (s as ScaledDecimal).scale)),
      decode: decimalState,
      result: (s) => (s === null ? null : formatDecimal((s as ScaledDecimal).unscaled, (s as ScaledDecimal).scale)),
    };
  }
  const check = type === 'integer' ? safeSum(where, name) : identity as (s: number) => number;
  return {
    name, type, input, bytes: 16,
    init: () => null,
    update: (s, v) => check(s === null ? (v as number) : (s as number) + (v as number)),
    merge: (a, b) => (a === null ? b : b === null ? a : check((a as number) + (b as number))),
    encode: identity, decode: identity,
    result: (s) => s as number | null,
  };
}

export function extremeAggregate(kind: 'min' | 'max', name: string, input: number, type: FieldType): Aggregate {
  const compare = comparerFor(type);
  const better = kind === 'min' ? (a: Value, b: Value) => compare(a, b) < 0 : (a: Value, b: Value) => compare(a, b) > 0;
  const pick = (a: unknown, b: unknown) => (a === null ? b : b === null ? a : better(b as Value, a as Value) ? b : a);
  return {
    name, type, input, bytes: type === 'string' || type === 'decimal' ? 64 : 16,
    init: () => null,
    update: pick,
    merge: pick,
    encode: identity, decode: identity,
    result: (s) => s as Value,
  };
}

/** avg → number; decimals are summed exactly and divided once at the end. */
export function avgAggregate(name: string, input: number, type: FieldType): Aggregate {
  if (type === 'decimal') {
    type State = { sum: ScaledDecimal; count: number };
    return {
      name, type: 'number', input, bytes: 120,
      init: () => ({ sum: { unscaled: 0n, scale: 0 }, count: 0 }),
      update(s, v) {
        addDecimal((s as State).sum, v as string);
        (s as State).count++;
        return s;
      },
      merge(a, b) {
        const x = a as State;
        const y = b as State;
        return { sum: mergeDecimal(x.sum, y.sum)!, count: x.count + y.count };
      },
      encode: (s) => [formatDecimal((s as State).sum.unscaled, (s as State).sum.scale), (s as State).count],
      decode: (j) => ({ sum: decimalState((j as [string, number])[0])!, count: (j as [string, number])[1] }),
      result(s) {
        const { sum, count } = s as State;
        if (count === 0) return null;
        // Divide exactly with 20 extra digits, so the double is the nearest one to the true average.
        return Number(formatDecimal((sum.unscaled * pow10(20)) / BigInt(count), sum.scale + 20));
      },
    };
  }
  return {
    name, type: 'number', input, bytes: 48,
    init: () => [0, 0],
    update(s, v) {
      (s as number[])[0]! += v as number;
      (s as number[])[1]!++;
      return s;
    },
    merge: (a, b) => [(a as number[])[0]! + (b as number[])[0]!, (a as number[])[1]! + (b as number[])[1]!],
    encode: identity, decode: identity,
    result: (s) => ((s as number[])[1] === 0 ? null : (s as number[])[0]! / (s as number[])[1]!),
  };
}
