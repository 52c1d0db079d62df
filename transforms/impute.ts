import { z } from 'zod';
import { isNumericType, type FieldType, type Row, type Schema, type Value } from '../src/core/schema.js';
import { configError, requireColumn } from './columns.js';
import { addDecimal, divideRounded, formatDecimal, type ScaledDecimal } from './decimal.js';
import type { CompileContext, Emit, Reject, StreamOp, TransformDef } from './op.js';
import { coerceToType, expectedText } from './value-coercion.js';
import { comparerFor, keyPart } from './value-order.js';

const STRATEGIES = ['constant', 'mean', 'most_frequent', 'previous'] as const;
type Strategy = (typeof STRATEGIES)[number];

const strategyConfig = z
  .strictObject({
    strategy: z.enum(STRATEGIES).describe('constant: `value`; mean: average of the column (integers rounded half away from zero, decimals to their largest scale); most_frequent: the commonest value (ties → the smallest); previous: the last non-null value above (forward fill)'),
    value: z.unknown().optional().describe('The constant, for strategy constant (any JSON value for a json column)'),
  })
  .describe('How to fill nulls');

const config = z
  .record(z.string().min(1), z.union([strategyConfig, z.string(), z.number(), z.boolean()]).describe('A constant, or { strategy, value }'))
  .describe('Fills nulls: column → a constant or { strategy: constant | mean | most_frequent | previous }');

export type ImputeConfig = z.infer<typeof config>;

interface Target {
  index: number;
  name: string;
  type: FieldType;
  strategy: Strategy;
  /** The fill value: fixed for constant, computed for mean/most_frequent, running for previous. */
  fill: Value;
}

/** Running mean of one column; integers are summed exactly (a double would drift past 2^53). */
class MeanAccumulator {
  private count = 0;
  private sum = 0;
  private big = 0n;
  private readonly decimal: ScaledDecimal = { unscaled: 0n, scale: 0 };
  constructor(private readonly type: FieldType) {}
  add(v: Value): void {
    this.count++;
    if (this.type === 'decimal') return addDecimal(this.decimal, v as string);
    this.sum += v as number;
    if (this.type === 'integer' && Math.abs(this.sum) > 2 ** 52) {
      this.big += BigInt(this.sum);
      this.sum = 0;
    }
  }
  result(): Value {
    if (this.count === 0) return null;
    if (this.type === 'number') return this.sum / this.count;
    if (this.type === 'decimal') return formatDecimal(divideRounded(this.decimal.unscaled, BigInt(this.count)), this.decimal.scale);
    return Number(divideRounded(this.big + BigInt(this.sum), BigInt(this.count)));
  }
}

/** Counts of each distinct value of one column (memory grows with the distinct values, not the rows). */
class FrequencyAccumulator {
  private readonly counts = new Map<string, { value: Value; count: number }>();
  constructor(private readonly type: FieldType) {}
  add(v: Value): void {
    const key = keyPart(this.type, v);
    const entry = this.counts.get(key);
    if (entry === undefined) this.counts.set(key, { value: v, count: 1 });
    else entry.count++;
  }
  result(): Value {
    const compare = comparerFor(this.type);
    let best: { value: Value; count: number } | null = null;
    for (const e of this.counts.values()) {
      if (best === null || e.count > best.count || (e.count === best.count && compare(e.value, best.value) < 0)) best = e;
    }
    return best === null ? null : best.value;
  }
}

function target(name: string, entry: ImputeConfig[string], input: Schema, where: string): Target {
  const index = requireColumn(input, name, where);
  const type = input[index]!.type;
  const here = `${where}.${name}`;
  const spec = typeof entry === 'object' ? entry : { strategy: 'constant' as const, value: entry };
  if (spec.strategy !== 'constant' && spec.value !== undefined) throw configError(here, `value is only used with strategy constant, not ${spec.strategy}`);
  if (spec.strategy === 'mean' && !isNumericType(type)) throw configError(here, `strategy mean needs an integer, number or decimal column; '${name}' is ${type}`, { value: type });
  let fill: Value = null;
  if (spec.strategy === 'constant') {
    if (spec.value === undefined || spec.value === null) throw configError(here, 'strategy constant needs a non-null value');
    const v = coerceToType(type, spec.value);
    if (v === undefined) {
      throw configError(here, `${JSON.stringify(spec.value)} does not fit ${type} column '${name}'; expected ${expectedText(type)}`, { value: spec.value, expected: expectedText(type) });
    }
    fill = v;
  }
  return { index, name, type, strategy: spec.strategy, fill };
}

function fillOp(input: Schema, targets: Target[]): StreamOp {
  const n = targets.length;
  const indexes = targets.map((t) => t.index);
  const fills = targets.map((t) => t.fill);
  const forward = targets.map((t) => t.strategy === 'previous');
  return {
    kind: 'stream',
    output: input,
    push(row: Row, emit: Emit, _reject: Reject) {
      let out: Row | null = null;
      for (let k = 0; k < n; k++) {
        const i = indexes[k]!;
        const v = row[i]!;
        if (v !== null) {
          if (forward[k]) fills[k] = v;
          continue;
        }
        if (fills[k] === null) continue;
        if (out === null) out = row.slice();
        out[i] = fills[k]!;
      }
      emit(out ?? row);
    },
  };
}

export const impute: TransformDef<ImputeConfig> = {
  name: 'impute',
  description: 'Fill nulls with a constant, the mean, the most frequent value or the previous value',
  config,
  compile(raw, input, ctx: CompileContext) {
    const targets = Object.entries(config.parse(raw)).map(([name, entry]) => target(name, entry, input, ctx.where));
    const observed = targets.filter((t) => t.strategy === 'mean' || t.strategy === 'most_frequent');
    if (observed.length === 0) return fillOp(input, targets);
    const accumulators = observed.map((t) => (t.strategy === 'mean' ? new MeanAccumulator(t.type) : new FrequencyAccumulator(t.type)));
    const indexes = observed.map((t) => t.index);
    const m = observed.length;
    return {
      kind: 'two-pass',
      observe(row) {
        for (let k = 0; k < m; k++) {
          const v = row[indexes[k]!]!;
          if (v !== null) accumulators[k]!.add(v);
        }
      },
      plan() {
        for (let k = 0; k < m; k++) {
          const t = observed[k]!;
          t.fill = accumulators[k]!.result();
          if (t.fill === null) ctx.log.warn(`${ctx.where}: column '${t.name}' has no non-null values; its nulls stay null`, { column: t.name });
        }
        return fillOp(input, targets);
      },
    };
  },
};
