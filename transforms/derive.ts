import { z } from 'zod';
import type { Field, Row, Value } from '../src/core/schema.js';
import { fieldIndex } from '../src/core/schema.js';
import type { TransformDef } from './op.js';
import { compileAt } from './expression-compile.js';

const config = z
  .record(z.string().min(1), z.string().min(1).describe('An expression over the columns (and the columns derived before it)'))
  .describe('Adds or replaces columns computed by expressions: name → expression, in order. A new name is appended; an existing one is replaced in place.');

export type DeriveConfig = z.infer<typeof config>;

export const derive: TransformDef<DeriveConfig> = {
  name: 'derive',
  description: 'Compute columns from expressions (new columns are appended; existing ones are replaced in place)',
  config,
  compile(raw, input, ctx) {
    const entries = Object.entries(config.parse(raw));
    const schema: Field[] = [...input];
    const positions: number[] = [];
    const evaluators: ((row: Row) => Value)[] = [];
    for (const [name, source] of entries) {
      // Each expression sees the schema as derived so far: positions are stable, so one row array serves all.
      const expr = compileAt(source, schema, `${ctx.where}.${name}`);
      let at = fieldIndex(schema, name);
      if (at === -1) {
        at = schema.length;
        schema.push({ name, type: expr.type });
      } else {
        schema[at] = { name, type: expr.type };
      }
      positions.push(at);
      evaluators.push(expr.evaluate);
    }
    const width = schema.length;
    const inWidth = input.length;
    const n = positions.length;
    return {
      kind: 'stream',
      output: schema,
      push(row, emit) {
        const out: Row = new Array(width);
        for (let i = 0; i < inWidth; i++) out[i] = row[i]!;
        for (let i = inWidth; i < width; i++) out[i] = null;
        for (let k = 0; k < n; k++) out[positions[k]!] = evaluators[k]!(out);
        emit(out);
      },
    };
  },
};
