import type { FieldType, Schema } from '../../src/core/schema.js';
import { columnList, STAGING, target, type Target } from '../postgres/sql.js';
import type { RedshiftSinkConfig } from './config.js';

/**
 * The SQL of a Redshift load. Written in the subset Redshift and PostgreSQL share wherever one exists, so
 * the tests run these exact statements on PostgreSQL; what only Redshift has (COPY … FROM 's3://…', the
 * DISTKEY/SORTKEY/ENCODE table attributes) is kept in separate, separately tested pieces.
 */

/**
 * Column types of tables the sink creates. VARCHAR lengths are bytes in Redshift: 65535 is the maximum
 * and costs nothing for short values. JSON stays text (query it with JSON_PARSE / JSON_EXTRACT_PATH_TEXT):
 * COPY from CSV would load a SUPER column as a string anyway. Decimals keep 10 fractional digits.
 */
export const REDSHIFT_TYPES: Record<FieldType, string> = {
  string: 'VARCHAR(65535)',
  integer: 'BIGINT',
  number: 'DOUBLE PRECISION',
  decimal: 'DECIMAL(38,10)',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMPTZ',
  date: 'DATE',
  json: 'VARCHAR(65535)',
};

/** Redshift folds unquoted and quoted names to lower case alike; quoting keeps any character a name. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * A string literal that means the same text in both dialects. The Data API's batches take no
 * parameters, so values are inlined; a backslash is an escape in Redshift literals but not in
 * PostgreSQL's, so it is written as CHR(92), which both read the same way.
 */
export function literal(value: string): string {
  const parts = value.split('\\').map((p) => `'${p.replace(/'/g, "''")}'`);
  return parts.length === 1 ? parts[0]! : `(${parts.join(' || CHR(92) || ')})`;
}

export { STAGING, target, type Target };
export const ORDINAL = 'datamill_ordinal';
export const LATEST = 'datamill_latest';

/** One row per (target, run) that committed; Redshift does not enforce keys, the load's LOCK does. */
export const LEDGER_TABLE = 'datamill.loads';
export const CREATE_LEDGER = [
  'CREATE SCHEMA IF NOT EXISTS datamill',
  `CREATE TABLE IF NOT EXISTS ${LEDGER_TABLE} (target VARCHAR(512) NOT NULL, run_id VARCHAR(256) NOT NULL, rows BIGINT NOT NULL, load_id VARCHAR(64) NOT NULL, loaded_at TIMESTAMP NOT NULL, PRIMARY KEY (target, run_id))`,
];

export function ledgerLookupSql(t: Target, run: string): string {
  return `SELECT rows, load_id FROM ${LEDGER_TABLE} WHERE target = ${literal(t.display)} AND run_id = ${literal(run)}`;
}

export function columnsSql(t: Target): string {
  return `SELECT column_name FROM information_schema.columns WHERE table_schema = ${literal(t.schema)} AND table_name = ${literal(t.name)} ORDER BY ordinal_position`;
}

/** The table attributes only Redshift knows; empty when the job asks for none (then the DDL is plain SQL). */
export function tableAttributes(config: Pick<RedshiftSinkConfig, 'diststyle' | 'distkey' | 'sortkey' | 'interleaved' | 'encode'>): string {
  const out: string[] = [];
  const style = config.diststyle ?? (config.distkey !== undefined ? 'key' : undefined);
  if (style !== undefined) out.push(`DISTSTYLE ${style.toUpperCase()}`);
  if (config.distkey !== undefined) out.push(`DISTKEY (${quoteIdent(config.distkey)})`);
  if (config.sortkey !== undefined) out.push(`${config.interleaved ? 'INTERLEAVED ' : 'COMPOUND '}SORTKEY (${config.sortkey.map(quoteIdent).join(', ')})`);
  if (config.encode === 'auto') out.push('ENCODE AUTO');
  return out.join(' ');
}

export function createTableSql(t: Target, schema: Schema, config: Pick<RedshiftSinkConfig, 'key' | 'diststyle' | 'distkey' | 'sortkey' | 'interleaved' | 'encode'>): string {
  const encodings = typeof config.encode === 'object' ? config.encode : {};
  const cols = schema.map((f) => `${quoteIdent(f.name)} ${REDSHIFT_TYPES[f.type]}${encodings[f.name] ? ` ENCODE ${encodings[f.name]!.toUpperCase()}` : ''}`);
  if (config.key && config.key.length > 0) cols.push(`PRIMARY KEY (${columnList(config.key, quoteIdent)})`);
  const attributes = tableAttributes(config);
  return `CREATE TABLE IF NOT EXISTS ${t.sql} (${cols.join(', ')})${attributes ? ' ' + attributes : ''}`;
}

export interface CopyOptions {
  manifestUrl: string;
  iamRole: string;
  region?: string | undefined;
  maxErrors: number;
}

/**
 * COPY from the staged CSV.gz parts through their manifest. NULL AS '\N' (the marker csv-parts writes
 * unquoted for a null) keeps empty strings and nulls apart; TIMEFORMAT 'auto' reads the ISO-8601 UTC
 * timestamps of the buffer; no statistics or compression analysis for a temp table that lives one load.
 */
export function copySql(tableSql: string, columns: readonly string[], o: CopyOptions): string {
  const role = o.iamRole === 'default' ? 'IAM_ROLE default' : `IAM_ROLE ${literal(o.iamRole)}`;
  const clauses = [
    `COPY ${tableSql} (${columnList(columns, quoteIdent)})`,
    `FROM ${literal(o.manifestUrl)}`,
    role,
    'MANIFEST',
    'FORMAT AS CSV',
    'GZIP',
    `NULL AS '\\\\N'`,
    "TIMEFORMAT 'auto'",
    "DATEFORMAT 'YYYY-MM-DD'",
    'COMPUPDATE OFF',
    'STATUPDATE OFF',
  ];
  if (o.region) clauses.push(`REGION ${literal(o.region)}`);
  if (o.maxErrors > 0) clauses.push(`MAXERROR ${o.maxErrors}`);
  return clauses.join(' ');
}

/**
 * The rows of STL_LOAD_ERRORS about the files of one load: every load stages under its own S3 prefix, so
 * the prefix finds its rows whichever session (a Data API statement has its own) ran the COPY.
 */
export function loadErrorsSql(filePrefix: string): string {
  return `SELECT TRIM(filename) AS filename, line_number, TRIM(colname) AS colname, TRIM(type) AS type, TRIM(err_reason) AS err_reason, TRIM(raw_field_value) AS raw_field_value, TRIM(raw_line) AS raw_line, err_code FROM stl_load_errors WHERE SUBSTRING(filename, 1, ${filePrefix.length}) = ${literal(filePrefix)} ORDER BY filename, line_number LIMIT 1000`;
}

/** A statement of the load's transaction; the COPY carries what a stand-in needs to perform it elsewhere. */
export interface Statement {
  sql: string;
  copy?: CopyPlan;
}

export interface CopyPlan {
  /** The (temp) table COPY fills, as written in SQL, and its columns in file order. */
  table: string;
  columns: string[];
  manifestUrl: string;
  /** MAXERROR: bad rows COPY skips (and logs in STL_LOAD_ERRORS) before it fails. */
  maxErrors: number;
}

export interface BatchPlan {
  t: Target;
  columns: readonly string[];
  mode: RedshiftSinkConfig['mode'];
  key?: readonly string[] | undefined;
  upsertWith: RedshiftSinkConfig['upsert_with'];
  run: string;
  loadId: string;
  rows: number;
  /** CREATE TABLE when the target is missing, else null. */
  createSql: string | null;
  /** The COPY, or null when there is nothing to copy (an empty input). */
  copy: CopyOptions | null;
  /** When the load commits, as 'YYYY-MM-DD HH:MM:SS' UTC. */
  now: string;
}

/**
 * The whole load as ONE transaction of plain statements, because the Data API's BatchExecuteStatement has
 * no way to branch: every step is written so that it does nothing when the ledger already holds this
 * (target, run). LOCK makes loads take turns on the ledger, so a racing attempt sees the winner's entry.
 */
export function loadBatch(p: BatchPlan): Statement[] {
  const q = quoteIdent;
  const staging = q(STAGING);
  const cols = columnList(p.columns, q);
  const loaded = `SELECT 1 FROM ${LEDGER_TABLE} WHERE target = ${literal(p.t.display)} AND run_id = ${literal(p.run)}`;
  const upsert = p.mode === 'upsert';
  const out: Statement[] = [{ sql: `LOCK ${LEDGER_TABLE}` }];
  if (p.createSql) out.push({ sql: p.createSql });
  out.push({ sql: `CREATE TEMP TABLE ${staging} (LIKE ${p.t.sql})` });
  if (upsert) out.push({ sql: `ALTER TABLE ${staging} ADD COLUMN ${q(ORDINAL)} BIGINT` });
  if (p.copy) {
    const copyColumns = upsert ? [...p.columns, ORDINAL] : [...p.columns];
    out.push({ sql: copySql(staging, copyColumns, p.copy), copy: { table: staging, columns: copyColumns, manifestUrl: p.copy.manifestUrl, maxErrors: p.copy.maxErrors } });
  }
  out.push({ sql: `DELETE FROM ${staging} WHERE EXISTS (${loaded})` });
  let source = staging;
  if (p.mode === 'replace') out.push({ sql: `DELETE FROM ${p.t.sql} WHERE NOT EXISTS (${loaded})` });
  if (upsert) {
    const key = p.key!;
    source = q(LATEST);
    out.push({ sql: `CREATE TEMP TABLE ${source} AS SELECT ${cols} FROM (SELECT ${cols}, ROW_NUMBER() OVER (PARTITION BY ${columnList(key, q)} ORDER BY ${q(ORDINAL)} DESC) AS datamill_rank FROM ${staging}) AS ranked WHERE datamill_rank = 1` });
    const match = key.map((k) => `${p.t.sql}.${q(k)} = s.${q(k)}`).join(' AND ');
    if (p.upsertWith === 'merge') {
      const keySet = new Set(key);
      // Redshift's MERGE needs both clauses; with nothing but the key to update, the update is a no-op.
      const rest = p.columns.filter((c) => !keySet.has(c));
      const set = (rest.length > 0 ? rest : key).map((c) => `${q(c)} = s.${q(c)}`).join(', ');
      out.push({ sql: `MERGE INTO ${p.t.sql} USING ${source} AS s ON ${match} WHEN MATCHED THEN UPDATE SET ${set} WHEN NOT MATCHED THEN INSERT (${cols}) VALUES (${columnList(p.columns, q, 's.')})` });
    } else {
      out.push({ sql: `DELETE FROM ${p.t.sql} USING ${source} AS s WHERE ${match}` });
      out.push({ sql: `INSERT INTO ${p.t.sql} (${cols}) SELECT ${cols} FROM ${source}` });
    }
  } else {
    out.push({ sql: `INSERT INTO ${p.t.sql} (${cols}) SELECT ${cols} FROM ${staging}` });
  }
  out.push({
    sql: `INSERT INTO ${LEDGER_TABLE} (target, run_id, rows, load_id, loaded_at) SELECT ${literal(p.t.display)}, ${literal(p.run)}, ${p.rows}, ${literal(p.loadId)}, CAST(${literal(p.now)} AS TIMESTAMP) WHERE NOT EXISTS (${loaded})`,
  });
  if (upsert) out.push({ sql: `DROP TABLE ${source}` });
  out.push({ sql: `DROP TABLE ${staging}` });
  return out;
}
