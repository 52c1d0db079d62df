import { closeSync, createReadStream, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { isNumericType, type Field, type Row, type Schema, type Value } from '../src/core/schema.js';
import { lineBatches } from '../src/core/lines.js';
import { parseSize } from '../src/spec/units.js';
import { sizeSchema } from '../src/spec/common-schemas.js';
import { assertUniqueNames, configError, requireColumn } from './columns.js';
import { avgAggregate, countAggregate, extremeAggregate, sumAggregate, type Aggregate } from './group-aggregates.js';
import type { CompileContext, StreamOp, TransformDef } from './op.js';
import { keyPart } from './value-order.js';

const columnsConfig = z.union([
  z.array(z.string().min(1)).describe('Input columns; each output column keeps its name'),
  z.record(z.string().min(1), z.string().min(1)).describe('Output column → input column'),
]);

const config = z
  .strictObject({
    by: z.array(z.string().min(1)).describe('Columns to group by (nulls form a group of their own, as in SQL); empty: one group'),
    count: z.union([z.string().min(1), z.literal(true)]).optional().describe("count(*) into this column (true: 'count')"),
    sum: columnsConfig.optional().describe('Sums (integer → integer, number → number, decimal → exact decimal); nulls ignored'),
    min: columnsConfig.optional().describe('Minimum (same type as the input); nulls ignored'),
    max: columnsConfig.optional().describe('Maximum (same type as the input); nulls ignored'),
    avg: columnsConfig.optional().describe('Average as a number; null when a group has no non-null value'),
    memory: sizeSchema.default('64Mi').describe('Memory for groups held at once; beyond it partial groups spill to disk'),
  })
  .describe('Groups rows by key columns and aggregates the rest (count, sum, min, max, avg)');

export type GroupConfig = z.infer<typeof config>;

const PARTITIONS = 16;
const MAX_DEPTH = 6;
const BATCH = 1000;
/** Rough per-group overhead: the Map entry, the group object and its arrays. */
const GROUP_BYTES = 160;

interface Group {
  by: Row;
  states: unknown[];
}

/** FNV-1a with a seed and a final mix, so each re-partitioning level splits differently. */
function hash(key: string, seed: number): number {
  let h = (2166136261 ^ Math.imul(seed + 1, 0x9e3779b9)) >>> 0;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return (h >>> 0) % PARTITIONS;
}

function aggregates(c: GroupConfig, input: Schema, where: string): Aggregate[] {
  const out: Aggregate[] = [];
  if (c.count !== undefined) out.push(countAggregate(c.count === true ? 'count' : c.count));
  const each = (kind: 'sum' | 'min' | 'max' | 'avg', cols: GroupConfig['sum']) => {
    if (cols === undefined) return;
    const pairs = Array.isArray(cols) ? cols.map((n) => [n, n] as const) : Object.entries(cols);
    for (const [name, from] of pairs) {
      const i = requireColumn(input, from, `${where}.${kind}`);
      const type = input[i]!.type;
      if ((kind === 'sum' || kind === 'avg') && !isNumericType(type)) throw configError(`${where}.${kind}`, `column '${from}' is ${type}; ${kind} needs integer, number or decimal`, { value: type });
      if ((kind === 'min' || kind === 'max') && type === 'json') throw configError(`${where}.${kind}`, `column '${from}' is json, which has no order; ${kind} needs another type`, { value: type });
      out.push(kind === 'sum' ? sumAggregate(name, i, type, where) : kind === 'avg' ? avgAggregate(name, i, type) : extremeAggregate(kind, name, i, type));
    }
  };
  each('sum', c.sum);
  each('min', c.min);
  each('max', c.max);
  each('avg', c.avg);
  return out;
}

export const group: TransformDef<GroupConfig> = {
  name: 'group',
  description: 'Group rows and aggregate: count, sum, min, max, avg — in bounded memory, spilling to disk',
  config,
  compile(raw, input, ctx: CompileContext) {
    const c = config.parse(raw);
    const byIdx = c.by.map((name) => requireColumn(input, name, `${ctx.where}.by`));
    const aggs = aggregates(c, input, ctx.where);
    const output: Field[] = [...byIdx.map((i) => input[i]!), ...aggs.map((a) => ({ name: a.name, type: a.type }))];
    assertUniqueNames(output, ctx.where);
    return new GroupOp(output, byIdx.map((i) => input[i]!.type), byIdx, aggs, parseSize(c.memory) ?? 64 * 1024 ** 2, ctx);
  },
};

/** Hash aggregation that spills partial groups to partition files when they outgrow the budget. */
class GroupOp implements StreamOp {
  readonly kind = 'stream';
  private groups = new Map<string, Group>();
  private held = 0;
  private spillDir: string | null = null;
  private spills = 0;
  private readonly nBy: number;
  private readonly nAgg: number;
  private readonly aggBytes: number;

  constructor(
    readonly output: Schema,
    private readonly byTypes: Schema[number]['type'][],
    private readonly byIdx: number[],
    private readonly aggs: Aggregate[],
    private readonly budget: number,
    private readonly ctx: CompileContext,
  ) {
    this.nBy = byIdx.length;
    this.nAgg = aggs.length;
    this.aggBytes = aggs.reduce((sum, a) => sum + a.bytes, 0);
  }

  private key(by: Row): string {
    if (this.nBy === 1) return keyPart(this.byTypes[0]!, by[0]!);
    let key = '';
    for (let i = 0; i < this.nBy; i++) key += (i > 0 ? '\u0001' : '') + keyPart(this.byTypes[i]!, by[i]!);
    return key;
  }

  private newGroup(map: Map<string, Group>, key: string, by: Row, states: unknown[]): number {
    map.set(key, { by, states });
    let bytes = GROUP_BYTES + 2 * key.length + this.aggBytes;
    for (let i = 0; i < this.nBy; i++) if (typeof by[i] === 'string') bytes += 2 * (by[i] as string).length;
    return bytes;
  }

  push(row: Row): void {
    const by: Row = new Array(this.nBy);
    for (let i = 0; i < this.nBy; i++) by[i] = row[this.byIdx[i]!]!;
    const key = this.key(by);
    let g = this.groups.get(key);
    if (g === undefined) {
      const states = new Array(this.nAgg);
      for (let a = 0; a < this.nAgg; a++) states[a] = this.aggs[a]!.init();
      this.held += this.newGroup(this.groups, key, by, states);
      g = this.groups.get(key)!;
    }
    const states = g.states;
    for (let a = 0; a < this.nAgg; a++) {
      const agg = this.aggs[a]!;
      if (agg.input === -1) states[a] = agg.update(states[a], null);
      else {
        const v = row[agg.input]!;
        if (v !== null) states[a] = agg.update(states[a], v);
      }
    }
    if (this.held > this.budget) {
      this.spill(this.groups, this.partitionFiles(this.rootDir()), 0);
      this.groups = new Map();
      this.held = 0;
    }
  }

  private rootDir(): string {
    if (this.spillDir === null) {
      this.spillDir = join(this.ctx.tmpDir, `group-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`);
      mkdirSync(this.spillDir, { recursive: true });
      this.ctx.log.info(`${this.ctx.where}: groups outgrew ${this.budget} bytes of memory; spilling partial groups to disk`, { dir: this.spillDir });
    }
    return this.spillDir;
  }

  private partitionFiles(dir: string): string[] {
    return Array.from({ length: PARTITIONS }, (_, p) => join(dir, `part-${String(p).padStart(2, '0')}.jsonl`));
  }

  /** Appends every group of `map` as a JSON line to the partition its key hashes to. */
  private spill(map: Map<string, Group>, files: string[], seed: number): void {
    this.spills++;
    const chunks: string[][] = Array.from({ length: PARTITIONS }, () => []);
    for (const [key, g] of map) {
      const line: unknown[] = [g.by];
      for (let a = 0; a < this.nAgg; a++) line.push(this.aggs[a]!.encode(g.states[a]));
      chunks[hash(key, seed)]!.push(JSON.stringify(line));
    }
    for (let p = 0; p < PARTITIONS; p++) {
      if (chunks[p]!.length === 0) continue;
      const fd = openSync(files[p]!, 'a');
      try {
        writeSync(fd, chunks[p]!.join('\n') + '\n');
      } finally {
        closeSync(fd);
      }
    }
    this.ctx.log.debug(`${this.ctx.where}: spilled ${map.size} partial groups`, { groups: map.size, seed });
  }

  private *rows(map: Map<string, Group>): Iterable<Row[]> {
    let batch: Row[] = [];
    for (const g of map.values()) {
      const row: Row = new Array(this.nBy + this.nAgg);
      for (let i = 0; i < this.nBy; i++) row[i] = g.by[i]!;
      for (let a = 0; a < this.nAgg; a++) row[this.nBy + a] = this.aggs[a]!.result(g.states[a]);
      batch.push(row);
      if (batch.length === BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  async *end(): AsyncIterable<Row[]> {
    if (this.spillDir === null) {
      // No input and no keys still makes one group in SQL (select count(*) from empty) — only without `by`.
      if (this.groups.size === 0 && this.nBy === 0) this.newGroup(this.groups, '', [], this.aggs.map((a) => a.init()));
      yield* this.rows(this.groups);
      this.groups = new Map();
      return;
    }
    const dir = this.spillDir;
    const files = this.partitionFiles(dir);
    if (this.groups.size > 0) this.spill(this.groups, files, 0);
    this.groups = new Map();
    this.held = 0;
    try {
      for (const file of files) yield* this.mergePartition(file, 1);
      this.ctx.log.info(`${this.ctx.where}: merged spilled groups`, { spills: this.spills });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Merges the partial groups of one partition file; re-partitions it with another seed if it is still too big. */
  private async *mergePartition(file: string, depth: number): AsyncIterable<Row[]> {
    let stream;
    try {
      stream = createReadStream(file);
      await new Promise<void>((resolve, reject) => stream!.once('open', () => resolve()).once('error', reject));
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return;
      throw err;
    }
    let map = new Map<string, Group>();
    let held = 0;
    let subFiles: string[] | null = null;
    for await (const lines of lineBatches(stream)) {
      for (const line of lines) {
        if (line.length === 0) continue;
        const parsed = JSON.parse(line) as unknown[];
        const by = parsed[0] as Row;
        const key = this.key(by);
        const g = map.get(key);
        if (g === undefined) {
          const states = new Array(this.nAgg);
          for (let a = 0; a < this.nAgg; a++) states[a] = this.aggs[a]!.decode(parsed[a + 1]);
          held += this.newGroup(map, key, by, states);
        } else {
          for (let a = 0; a < this.nAgg; a++) g.states[a] = this.aggs[a]!.merge(g.states[a], this.aggs[a]!.decode(parsed[a + 1]));
        }
        if (held > this.budget && depth < MAX_DEPTH) {
          if (subFiles === null) {
            const sub = `${file}.d`;
            mkdirSync(sub);
            subFiles = this.partitionFiles(sub);
          }
          this.spill(map, subFiles, depth);
          map = new Map();
          held = 0;
        }
      }
    }
    rmSync(file, { force: true });
    if (subFiles === null) {
      yield* this.rows(map);
      return;
    }
    if (map.size > 0) this.spill(map, subFiles, depth);
    map = new Map();
    for (const sub of subFiles) yield* this.mergePartition(sub, depth + 1);
  }
}
