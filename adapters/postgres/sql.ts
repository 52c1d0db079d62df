import type { FieldType, Schema } from '../../src/core/schema.js';

/** Column types of tables the sink creates. integer is bigint: the common format allows any safe integer. */
export const PG_TYPES: Record<FieldType, string> = {
  string: 'text',
  integer: 'bigint',
  number: 'double precision',
  decimal: 'numeric',
  boolean: 'boolean',
  timestamp: 'timestamptz',
  date: 'date',
  json: 'jsonb',
};

export type Quote = (identifier: string) => string;

/** A resolved target table: its two names, how it is shown, and how it is written in SQL. */
export interface Target {
  schema: string;
  name: string;
  /** `schema.table`, for messages, the ledger and LoadResult.target. */
  display: string;
  /** `"schema"."table"`, always quoted. */
  sql: string;
}

export function target(schema: string, name: string, q: Quote): Target {
  return { schema, name, display: `${schema}.${name}`, sql: `${q(schema)}.${q(name)}` };
}

/** The ledger: one row per (target, run) that committed. Its primary key is what makes a load happen once. */
export const LEDGER_TABLE = 'datamill.loads';
export const CREATE_LEDGER = [
  `CREATE SCHEMA IF NOT EXISTS datamill`,
  `CREATE TABLE IF NOT EXISTS datamill.loads (
     target text NOT NULL,
     run_id text NOT NULL,
     rows bigint NOT NULL,
     loaded_at timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (target, run_id)
   )`,
];
/** Lock key that serializes CREATE … IF NOT EXISTS, which otherwise fails when two sessions race on it. */
export const DDL_LOCK = `hashtextextended('datamill.ddl', 0)`;

export const STAGING = 'datamill_staging';
export const LATEST = 'datamill_latest';
export const ORDINAL = 'datamill_ordinal';

export function columnList(columns: readonly string[], q: Quote, prefix = ''): string {
  return columns.map((c) => prefix + q(c)).join(', ');
}

export function createTableSql(t: Target, schema: Schema, key: readonly string[] | undefined, q: Quote): string {
  const cols = schema.map((f) => `${q(f.name)} ${PG_TYPES[f.type]}`);
  if (key && key.length > 0) cols.push(`PRIMARY KEY (${columnList(key, q)})`);
  return `CREATE TABLE ${t.sql} (${cols.join(', ')})`;
}

export function copySql(tableSql: string, columns: readonly string[], q: Quote): string {
  return `COPY ${tableSql} (${columnList(columns, q)}) FROM STDIN`;
}

/**
 * The staging table lives only for the transaction and holds the input columns with the target's exact
 * types (CREATE … AS SELECT … WITH NO DATA keeps typmods), so COPY parses values as the target will.
 * Not LIKE target: that would also copy NOT NULLs of target columns the input does not fill (an identity
 * column, for one) without what fills them, and COPY would fail. Constraints are checked when the rows
 * reach the target. Upserts add an ordinal recording input order, so the last occurrence of a key wins.
 */
export function createStagingSql(t: Target, columns: readonly string[], q: Quote, withOrdinal: boolean): string[] {
  const out = [`CREATE TEMP TABLE ${q(STAGING)} ON COMMIT DROP AS SELECT ${columnList(columns, q)} FROM ${t.sql} WITH NO DATA`];
  if (withOrdinal) out.push(`ALTER TABLE ${q(STAGING)} ADD COLUMN ${q(ORDINAL)} bigserial`);
  return out;
}

export function replaceSql(t: Target, columns: readonly string[], q: Quote): string[] {
  const cols = columnList(columns, q);
  return [`TRUNCATE ${t.sql}`, `INSERT INTO ${t.sql} (${cols}) SELECT ${cols} FROM ${q(STAGING)}`];
}

/** Rows of staging whose key has a null: a null never equals anything, so such a row could not be upserted twice the same way. */
export function nullKeysSql(key: readonly string[], q: Quote): string {
  return `SELECT count(*)::bigint AS n FROM ${q(STAGING)} WHERE ${key.map((k) => `${q(k)} IS NULL`).join(' OR ')}`;
}

/** The last occurrence of each key in the input, as a SELECT. */
function latestSelect(columns: readonly string[], key: readonly string[], q: Quote): string {
  const keys = columnList(key, q);
  return `SELECT DISTINCT ON (${keys}) ${columnList(columns, q)} FROM ${q(STAGING)} ORDER BY ${keys}, ${q(ORDINAL)} DESC`;
}

/**
 * One statement, one result row: `xmax = 0` tells a fresh insert from a row ON CONFLICT updated, and the
 * counting happens in the server so nothing grows with the input here.
 */
export function upsertOnConflictSql(t: Target, columns: readonly string[], key: readonly string[], q: Quote): string {
  const keySet = new Set(key);
  const rest = columns.filter((c) => !keySet.has(c));
  const action = rest.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${rest.map((c) => `${q(c)} = EXCLUDED.${q(c)}`).join(', ')}`;
  return `WITH up AS (
    INSERT INTO ${t.sql} (${columnList(columns, q)}) ${latestSelect(columns, key, q)}
    ON CONFLICT (${columnList(key, q)}) ${action}
    RETURNING (xmax = 0) AS inserted
  ) SELECT count(*) FILTER (WHERE inserted)::bigint AS inserted, count(*) FILTER (WHERE NOT inserted)::bigint AS updated FROM up`;
}

/** Without a unique constraint on exactly the key, ON CONFLICT cannot work: delete the keys, then insert. */
export function upsertDeleteInsertSql(t: Target, columns: readonly string[], key: readonly string[], q: Quote): string[] {
  const match = key.map((k) => `t.${q(k)} = s.${q(k)}`).join(' AND ');
  return [
    `CREATE TEMP TABLE ${q(LATEST)} ON COMMIT DROP AS ${latestSelect(columns, key, q)}`,
    `DELETE FROM ${t.sql} AS t USING ${q(LATEST)} AS s WHERE ${match}`,
    `INSERT INTO ${t.sql} (${columnList(columns, q)}) SELECT ${columnList(columns, q)} FROM ${q(LATEST)}`,
  ];
}

/** Whether a unique index without predicate or expressions covers exactly these columns (what ON CONFLICT (key) infers). */
export const UNIQUE_ON_KEY_SQL = `
  SELECT 1 FROM pg_index i
  WHERE i.indrelid = to_regclass(format('%I.%I', $1::text, $2::text))
    AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
    AND (SELECT array_agg(a.attname::text ORDER BY a.attname::text)
           FROM unnest(i.indkey::int2[]) AS k(attnum)
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum)
        = (SELECT array_agg(c ORDER BY c) FROM unnest($3::text[]) AS c)
  LIMIT 1`;
