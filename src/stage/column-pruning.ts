import type { CellLayout } from '../core/row-codec.js';
import type { Schema } from '../core/schema.js';
import { compileExpression } from '../expr/index.js';
import type { CompileContext } from '../../transforms/op.js';
import { TRANSFORMS } from '../../transforms/index.js';

/**
 * Column pruning for the transform stage. Most jobs filter and derive over a few columns and carry the
 * rest through untouched; decoding those (unescaping text, parsing numbers and timestamps) and encoding
 * them again is most of the stage's work. A column that no expression ever reads is "pass-through": it
 * travels as its COPY-text cell, sliced from the input and written back verbatim. The transforms need no
 * change, because a pass-through cell is just a string in the row array at a position no op reads.
 */

/**
 * Steps whose effect on columns is known by name and which never reject rows (a reject record would show
 * pass-through cells as COPY text). Any other step (group, impute, flatten, parse…) reads or reshapes values.
 */
const PRUNABLE = new Set(['filter', 'derive', 'rename', 'select', 'drop']);

export interface ColumnPlan {
  /** Per input column: true when no expression reads it, so it is carried as raw COPY text or not at all. */
  readonly rawInput: readonly boolean[];
  /** Per output column: true when its cell is a raw input cell, to be written back as is. */
  readonly rawOutput: readonly boolean[];
  /** How the input is decoded (see CellLayout): raw spans, and unused columns left unsliced. */
  readonly inputLayout: CellLayout;
  /** How the output is encoded: the same spans, each written as one cell. */
  readonly outputLayout: CellLayout;
  /** The output column names the plan was made for (the pipeline's output must match). */
  readonly outputNames: readonly string[];
}

export interface PlannedStep {
  readonly name: string;
  readonly config: unknown;
  readonly where: string;
}

/**
 * Which columns can pass through undecoded, or null when pruning does not apply (a step other than
 * filter/derive/rename/select/drop, or a step that does not compile — the pipeline then reports it).
 * Columns are tracked by where each output column came from: rename keeps it, select/drop pick it by
 * name, derive of an existing name replaces it with a computed value.
 */
export function planColumnPruning(input: Schema, steps: readonly PlannedStep[], ctx: Pick<CompileContext, 'tmpDir' | 'log'>): ColumnPlan | null {
  if (steps.length === 0 || steps.some((s) => !PRUNABLE.has(s.name))) return null;
  const read = new Array<boolean>(input.length).fill(false);
  /** For each column of the current schema, the input column it carries unchanged, or -1 when computed. */
  let origin = input.map((_, i) => i);
  let schema = input;
  const readAll = (names: readonly string[], within: Schema, from: readonly number[]) => {
    for (const name of names) {
      const at = within.findIndex((f) => f.name === name);
      const o = at === -1 ? -1 : from[at]!;
      if (o !== -1) read[o] = true;
    }
  };
  try {
    for (const step of steps) {
      const def = TRANSFORMS[step.name]!;
      const config: unknown = def.config.parse(step.config);
      const op = def.compile(config, schema, { where: step.where, tmpDir: ctx.tmpDir, log: ctx.log });
      if (op.kind !== 'stream') return null;
      const output = op.output;
      let next: number[];
      switch (step.name) {
        case 'filter':
          readAll(compileExpression(config as string, schema).columns, schema, origin);
          next = origin;
          break;
        case 'derive': {
          // Each expression sees the columns derived before it, as the derive op compiles them.
          const sofar = [...schema];
          next = [...origin];
          for (const [name, source] of Object.entries(config as Record<string, string>)) {
            const expr = compileExpression(source, sofar);
            readAll(expr.columns, sofar, next);
            const at = sofar.findIndex((f) => f.name === name);
            if (at === -1) {
              sofar.push({ name, type: expr.type });
              next.push(-1);
            } else {
              sofar[at] = { name, type: expr.type };
              next[at] = -1;
            }
          }
          break;
        }
        case 'rename':
          next = origin;
          break;
        default: {
          // select, drop: a subset of the columns, found by name.
          const names = schema.map((f) => f.name);
          next = output.map((f) => {
            const at = names.indexOf(f.name);
            return at === -1 ? -1 : origin[at]!;
          });
        }
      }
      if (next.length !== output.length) return null;
      origin = next;
      schema = output;
    }
  } catch {
    return null;
  }
  const rawInput = read.map((r) => !r);
  const rawOutput = origin.map((o) => o !== -1 && rawInput[o] === true);
  return { rawInput, rawOutput, ...spans(origin, rawInput, rawOutput), outputNames: schema.map((f) => f.name) };
}

/**
 * Groups raw output columns into spans: runs that are consecutive, in the same order, both in the input
 * and in the output, so one slice of the input line (tabs included) is one cell of the output line. Raw
 * input columns that reach no output (dropped, or replaced by derive) are not sliced at all.
 */
function spans(origin: readonly number[], rawInput: readonly boolean[], rawOutput: readonly boolean[]): { inputLayout: number[]; outputLayout: number[] } {
  const inputLayout = rawInput.map((raw): number => (raw ? -2 : 0));
  const outputLayout = new Array<number>(origin.length).fill(0);
  for (let j = 0; j < origin.length; j++) {
    if (!rawOutput[j]) continue;
    let k = 1;
    while (j + k < origin.length && rawOutput[j + k] && origin[j + k] === origin[j]! + k) k++;
    outputLayout[j] = k;
    inputLayout[origin[j]!] = k;
    for (let m = 1; m < k; m++) {
      outputLayout[j + m] = -1;
      inputLayout[origin[j]! + m] = -1;
    }
    j += k - 1;
  }
  return { inputLayout, outputLayout };
}

/** The names of the input columns a plan passes through, for logs and tests. */
export function passThroughNames(input: Schema, plan: ColumnPlan | null): string[] {
  return plan === null ? [] : input.filter((_, i) => plan.rawInput[i]).map((f) => f.name);
}
