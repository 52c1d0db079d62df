import { z } from 'zod';
import type { Field } from '../src/core/schema.js';
import { assertUniqueNames, requireColumn } from './columns.js';
import type { TransformDef } from './op.js';

const config = z
  .record(z.string().min(1), z.string().min(1).describe('The new name'))
  .describe('Renames columns: old name → new name. Positions and values are unchanged.');

export type RenameConfig = z.infer<typeof config>;

export const rename: TransformDef<RenameConfig> = {
  name: 'rename',
  description: 'Rename columns (old → new), keeping their position, type and values',
  config,
  compile(raw, input, ctx) {
    const renames = config.parse(raw);
    const output: Field[] = input.map((f) => ({ ...f }));
    for (const [from, to] of Object.entries(renames)) {
      const i = requireColumn(input, from, ctx.where);
      output[i] = { name: to, type: input[i]!.type };
    }
    assertUniqueNames(output, ctx.where);
    // Rows are positional: a rename changes only the schema.
    return { kind: 'stream', output, push: (row, emit) => emit(row) };
  },
};
