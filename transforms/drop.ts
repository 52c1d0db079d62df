import { z } from 'zod';
import { configError, requireColumn } from './columns.js';
import type { TransformDef } from './op.js';
import { projection } from './select.js';

const config = z.array(z.string().min(1)).min(1).describe('Columns to remove; the others keep their order');

export type DropConfig = z.infer<typeof config>;

export const drop: TransformDef<DropConfig> = {
  name: 'drop',
  description: 'Remove the listed columns',
  config,
  compile(raw, input, ctx) {
    const names = config.parse(raw);
    const dropped = new Set(names.map((name) => requireColumn(input, name, ctx.where)));
    const keep = input.map((_, i) => i).filter((i) => !dropped.has(i));
    if (keep.length === 0) throw configError(ctx.where, 'dropping every column leaves no output', { value: names });
    const project = projection(keep);
    return { kind: 'stream', output: keep.map((i) => input[i]!), push: (row, emit) => emit(project(row)) };
  },
};
