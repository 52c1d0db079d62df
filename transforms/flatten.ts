import { z } from 'zod';
import type { Field, FieldType, JsonValue, Row, Schema, Value } from '../src/core/schema.js';
import { fieldTypeSchema } from '../src/spec/common-schemas.js';
import { assertUniqueNames, requireColumnOfType } from './columns.js';
import type { CompileContext, StreamOp, TransformDef } from './op.js';
import { coerceToType, expectedText } from './value-coercion.js';

const config = z
  .strictObject({
    field: z.string().min(1).describe('The json column holding objects to spread into columns'),
    separator: z.string().default('_').describe("Joins the keys of a nested path into a column name (default '_')"),
    prefix: z.string().optional().describe('Put before every new column name (default: the field name and the separator)'),
    fields: z
      .record(z.string().min(1), fieldTypeSchema)
      .optional()
      .describe('Dotted paths to extract and their types (e.g. "user.id": integer); without it every key path is discovered in a first pass'),
    keep: z.boolean().default(false).describe('Keep the original json column as well (default false)'),
    max_depth: z.number().int().min(1).optional().describe('Nesting levels to expand when discovering (1 = top-level keys only); deeper objects stay json'),
  })
  .describe('Spreads the keys of a json object column into columns of their own');

export type FlattenConfig = z.infer<typeof config>;

interface Column {
  name: string;
  path: string[];
  type: FieldType;
}

function isObject(v: unknown): v is { [key: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function lookup(root: { [key: string]: JsonValue }, path: string[]): JsonValue | undefined {
  let v: JsonValue | undefined = root;
  for (let i = 0; i < path.length; i++) {
    if (!isObject(v)) return undefined;
    v = v[path[i]!];
  }
  return v;
}

function kindOf(v: JsonValue): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
}

/** Builds the op that writes the extracted columns where the json column was (after it with keep). */
function spreadOp(input: Schema, index: number, columns: Column[], keep: boolean, where: string): StreamOp {
  const before = keep ? index + 1 : index;
  const fieldName = input[index]!.name;
  const added: Field[] = columns.map((c) => ({ name: c.name, type: c.type }));
  const output: Field[] = [...input.slice(0, before), ...added, ...input.slice(index + 1)];
  assertUniqueNames(output, where);
  const width = output.length;
  const tail = input.length - index - 1;
  const m = columns.length;
  const paths = columns.map((c) => c.path);
  const types = columns.map((c) => c.type);
  return {
    kind: 'stream',
    output,
    push(row, emit, reject) {
      const v = row[index]!;
      if (v !== null && !isObject(v)) return reject(row, `${fieldName}: expected a JSON object, found ${kindOf(v as JsonValue)}`, fieldName);
      const out: Row = new Array(width);
      for (let i = 0; i < before; i++) out[i] = row[i]!;
      for (let k = 0; k < m; k++) {
        const found = v === null ? undefined : lookup(v, paths[k]!);
        if (found === undefined || found === null) {
          out[before + k] = null;
          continue;
        }
        const typed = types[k] === 'json' ? (found as Value) : coerceToType(types[k]!, found);
        if (typed === undefined) {
          return reject(row, `${fieldName}.${paths[k]!.join('.')}: ${JSON.stringify(found).slice(0, 80)} is not ${expectedText(types[k]!)}`, fieldName);
        }
        out[before + k] = typed;
      }
      for (let i = 0; i < tail; i++) out[before + m + i] = row[index + 1 + i]!;
      emit(out);
    },
  };
}

/** What the discovery pass saw at one key path across all rows. */
class PathNode {
  readonly children = new Map<string, PathNode>();
  object = false;
  integer = false;
  number = false;
  boolean = false;
  string = false;
  other = false;

  scalarType(): FieldType | null {
    const kinds = Number(this.number || this.integer) + Number(this.boolean) + Number(this.string) + Number(this.other);
    if (kinds === 0) return this.object ? null : 'string';
    if (kinds > 1 || this.other || this.object) return 'json';
    if (this.integer || this.number) return this.number ? 'number' : 'integer';
    return this.boolean ? 'boolean' : 'string';
  }
}

function observeObject(obj: { [key: string]: JsonValue }, node: PathNode, depth: number, maxDepth: number): void {
  for (const key of Object.keys(obj)) {
    let child = node.children.get(key);
    if (child === undefined) {
      child = new PathNode();
      node.children.set(key, child);
    }
    const v = obj[key]!;
    if (v === null) continue;
    switch (typeof v) {
      case 'number':
        if (Number.isSafeInteger(v)) child.integer = true;
        else child.number = true;
        break;
      case 'boolean':
        child.boolean = true;
        break;
      case 'string':
        child.string = true;
        break;
      default:
        if (isObject(v) && depth < maxDepth) {
          child.object = true;
          observeObject(v, child, depth + 1, maxDepth);
        } else child.other = true;
    }
  }
}

/** Leaf columns of the discovered tree: a path seen both as an object and as a scalar stays json. */
function discovered(node: PathNode, path: string[], name: (path: string[]) => string, out: Column[]): void {
  for (const [key, child] of node.children) {
    const childPath = [...path, key];
    const type = child.scalarType();
    if (type === null) discovered(child, childPath, name, out);
    else out.push({ name: name(childPath), path: childPath, type });
  }
}

export const flatten: TransformDef<FlattenConfig> = {
  name: 'flatten',
  description: 'Spread the keys of a json object column into columns',
  config,
  compile(raw, input, ctx: CompileContext) {
    const c = config.parse(raw);
    const index = requireColumnOfType(input, c.field, ['json'], ctx.where, 'flatten');
    const prefix = c.prefix ?? `${c.field}${c.separator}`;
    const name = (path: string[]) => prefix + path.join(c.separator);
    if (c.fields !== undefined) {
      const columns = Object.entries(c.fields).map(([dotted, type]) => {
        const path = dotted.split('.');
        return { name: name(path), path, type };
      });
      return spreadOp(input, index, columns, c.keep, ctx.where);
    }
    const root = new PathNode();
    const maxDepth = c.max_depth ?? Number.POSITIVE_INFINITY;
    return {
      kind: 'two-pass',
      observe(row) {
        const v = row[index]!;
        if (isObject(v)) observeObject(v, root, 1, maxDepth);
      },
      plan() {
        const columns: Column[] = [];
        discovered(root, [], name, columns);
        columns.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        ctx.log.info(`${ctx.where}: ${c.field} flattens into ${columns.length} columns`, { columns: columns.map((col) => `${col.name}:${col.type}`) });
        return spreadOp(input, index, columns, c.keep, ctx.where);
      },
    };
  },
};
