import { z } from 'zod';
import { checkLoadKey } from '../../src/spec/common-schemas.js';

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
  .superRefine((c, ctx) => checkLoadKey(c, ctx, 'the columns that identify a row'))
  .describe('Load into a PostgreSQL table, exactly once per run');

/** What the user wrote. */
export type PostgresSinkSpec = z.input<typeof postgresSinkConfig>;
/** Validated, defaults applied. */
export type PostgresSinkConfig = z.output<typeof postgresSinkConfig>;

/** Splits `schema.table`; `schema` is null when the table is unqualified. */
export function splitTable(table: string): { schema: string | null; name: string } {
  const dot = table.indexOf('.');
  return dot === -1 ? { schema: null, name: table } : { schema: table.slice(0, dot), name: table.slice(dot + 1) };
}
