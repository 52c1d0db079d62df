import { z } from 'zod';
import { LoadError } from '../../src/core/errors.js';

/** `schema.table` or `table`: one or two non-empty parts; any other characters are quoted, never interpreted. */
const TABLE = /^[^.]+(\.[^.]+)?$/;

export const LOAD_MODES = ['append', 'replace', 'upsert'] as const;
export type LoadMode = (typeof LOAD_MODES)[number];

export const postgresSinkConfig = z
  .object({
    to: z.literal('postgres'),
    connection: z
      .string()
      .min(1)
      .describe('PostgreSQL connection URL (postgres://user:password@host:port/database), normally a reference such as "${env:WAREHOUSE_URL}" resolved only when connecting'),
    table: z
      .string()
      .regex(TABLE, 'table must be "schema.table" or "table" (one or two dot-separated, non-empty names)')
      .describe('Target table, "schema.table" or "table" (then the connection\'s current schema)'),
    mode: z
      .enum(LOAD_MODES)
      .default('append')
      .describe('append: add the rows; replace: the table holds exactly this run\'s rows afterwards; upsert: insert new keys, update existing ones'),
    key: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Columns identifying a row, for mode upsert (and the PRIMARY KEY when the table is created)'),
    create: z.boolean().default(true).describe('Create the table from the stage schema when it does not exist'),
  })
  .strict()
  .superRefine(checkModeKey)
  .describe('Load into a PostgreSQL table, exactly once per run');

/** Shared by the warehouse sinks: upsert needs a key, and a key names each column once. */
export function checkModeKey(c: { mode: LoadMode; key?: string[] | undefined }, ctx: z.RefinementCtx): void {
  if (c.mode === 'upsert' && (c.key === undefined || c.key.length === 0)) {
    ctx.addIssue({ code: 'custom', path: ['key'], message: 'mode upsert needs key: the columns that identify a row, e.g. key: [day, site_id]' });
  }
  if (c.key !== undefined && new Set(c.key).size !== c.key.length) {
    ctx.addIssue({ code: 'custom', path: ['key'], message: `key lists a column twice: ${c.key.join(', ')}` });
  }
}

/** A load.key naming a column the input does not have is refused before anything is sent. */
export function checkKeyColumns(key: readonly string[] | undefined, columns: readonly string[]): void {
  if (!key) return;
  const have = new Set(columns);
  const missing = key.filter((k) => !have.has(k));
  if (missing.length > 0) {
    throw new LoadError(`load.key names ${missing.join(', ')}, which the input does not have; input columns are: ${columns.join(', ')}`, {
      details: { where: 'load.key', value: missing, expected: `columns among ${columns.join(', ')}` },
    });
  }
}

/** What the user wrote. */
export type PostgresSinkSpec = z.input<typeof postgresSinkConfig>;
/** Validated, defaults applied. */
export type PostgresSinkConfig = z.output<typeof postgresSinkConfig>;

/** Splits `schema.table`; `schema` is null when the table is unqualified. */
export function splitTable(table: string): { schema: string | null; name: string } {
  const dot = table.indexOf('.');
  return dot === -1 ? { schema: null, name: table } : { schema: table.slice(0, dot), name: table.slice(dot + 1) };
}
