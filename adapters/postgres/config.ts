import { z } from 'zod';
import { checkLoadKey } from '../../src/spec/common-schemas.js';
import { LoadError } from '../../src/core/errors.js';

/** `schema.table` or `table`: one or two non-empty parts; any other characters are quoted, never interpreted. */
const TABLE = /^[^.]+(\.[^.]+)?$/;

export const LOAD_MODES = ['append', 'replace', 'upsert'] as const;
export type LoadMode = (typeof LOAD_MODES)[number];

/** Sink and source connect the same way. */
const connection = z
  .string()
  .min(1)
  .describe('PostgreSQL connection URL (postgres://user:password@host:port/database), normally a reference such as "${env:WAREHOUSE_URL}" resolved only when connecting');

export const postgresSinkConfig = z
  .object({
    to: z.literal('postgres'),
    connection,
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

export const postgresSourceConfig = z
  .object({
    from: z.literal('postgres'),
    connection,
    query: z
      .string()
      .min(1)
      .optional()
      .describe('A SELECT whose rows are extracted (no trailing semicolon needed); give query or table'),
    table: z
      .string()
      .regex(TABLE, 'table must be "schema.table" or "table" (one or two dot-separated, non-empty names)')
      .optional()
      .describe('A table (or view) extracted whole, "schema.table" or "table"; give query or table'),
    incremental: z
      .strictObject({
        column: z.string().min(1).describe('A column of the rows (of the query\'s output) that grows as rows are added or changed: an id, updated_at…'),
        start: z.union([z.string(), z.number()]).optional().describe('Read only rows above this value on the first run (default: all rows)'),
      })
      .optional()
      .describe('Extract only rows whose column is above the high-water mark of the last successful run; the mark moves only when the run\'s load commits'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.query === undefined) === (c.table === undefined)) {
      ctx.addIssue({ code: 'custom', path: c.query === undefined ? ['query'] : ['table'], message: 'give exactly one of query (a SELECT) or table' });
    }
  })
  .describe('Extracts the rows of a PostgreSQL query or table, streamed with COPY TO, optionally incrementally');

export type PostgresSourceSpec = z.input<typeof postgresSourceConfig>;
export type PostgresSourceConfig = z.output<typeof postgresSourceConfig>;
