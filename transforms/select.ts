import { z } from 'zod';
import type { Row } from '../src/core/schema.js';
import { configError, requireColumn } from './columns.js';
import type { TransformDef } from './op.js';

const config = z
  .array(z.string().min(1))
  .min(1)
  .describe('Columns to keep, in the order they should appear; every other column is dropped');

export type SelectConfig = z.infer<typeof config>;

/** Builds an op that keeps the columns at `indexes`, in that order. */
export function projection(indexes: number[]): (row: Row) => Row {
  const n = indexes.length;
  return (row) => {
    const out: Row = new Array(n);
    for (let i = 0; i < n; i++) out[i] = row[indexes[i]!]!;
    return out;
  };
}

export const select: TransformDef<SelectConfig> = {
  name: 'select',
  description: 'Keep only the listed columns, in the listed order',
  config,
  compile(raw, input, ctx) {
    const names = config.parse(raw);
    const seen = new Set<string>();
    const indexes = names.map((name) => {
      if (seen.has(name)) throw configError(ctx.where, `column '${name}' is listed twice`, { value: name });
      seen.add(name);
      return requireColumn(input, name, ctx.where);
    });
    const project = projection(indexes);
    return { kind: 'stream', output: indexes.map((i) => input[i]!), push: (row, emit) => emit(project(row)) };
  },
};
