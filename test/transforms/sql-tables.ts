import type { FieldType, Row, Schema } from '../../src/core/schema.js';
import type { TestDatabase } from '../support/database.js';

const SQL_TYPES: Record<FieldType, string> = {
  string: 'text',
  integer: 'bigint',
  number: 'float8',
  decimal: 'numeric',
  boolean: 'boolean',
  timestamp: 'timestamptz',
  date: 'date',
  json: 'jsonb',
};

function param(type: FieldType, v: Row[number]): unknown {
  if (v === null) return null;
  if (type === 'timestamp') return new Date(v as number).toISOString();
  if (type === 'json') return JSON.stringify(v);
  return v;
}

/** Creates `table` with columns of `schema` and inserts `rows` with plain parameterized INSERTs. */
export async function createTable(db: TestDatabase, table: string, schema: Schema, rows: Row[]): Promise<void> {
  await db.query(`CREATE TABLE ${table} (${schema.map((f) => `"${f.name}" ${SQL_TYPES[f.type]}`).join(', ')})`);
  const per = Math.max(1, Math.floor(30_000 / Math.max(1, schema.length)));
  for (let start = 0; start < rows.length; start += per) {
    const chunk = rows.slice(start, start + per);
    const params: unknown[] = [];
    const tuples = chunk.map((row) => `(${schema.map((f, i) => {
      params.push(param(f.type, row[i]!));
      return `$${params.length}::${SQL_TYPES[f.type]}`;
    }).join(', ')})`);
    await db.query(`INSERT INTO ${table} VALUES ${tuples.join(', ')}`, params);
  }
}

/**
 * Floats are compared as the nearest double rounded to 9 digits: SQL's avg of integers and decimals is an
 * exact numeric, ours a double.
 */
function normalized(type: FieldType, column: string): string {
  return type === 'number' ? `round((${column})::float8::numeric, 9)` : column;
}

/**
 * Rows of `table` that the SQL does not produce plus rows it produces that the table lacks (multisets,
 * EXCEPT ALL both ways). The SQL's columns must line up with the schema.
 */
export async function differences(db: TestDatabase, table: string, schema: Schema, expectedSql: string): Promise<{ extra: unknown[]; missing: unknown[] }> {
  const names = schema.map((_, i) => `c${i}`);
  const actual = `SELECT ${schema.map((f) => normalized(f.type, `"${f.name}"`)).join(', ')} FROM ${table}`;
  const expected = `SELECT ${schema.map((f, i) => normalized(f.type, names[i]!)).join(', ')} FROM (${expectedSql}) AS e(${names.join(', ')})`;
  const extra = await db.query(`(${actual}) EXCEPT ALL (${expected}) LIMIT 5`);
  const missing = await db.query(`(${expected}) EXCEPT ALL (${actual}) LIMIT 5`);
  return { extra, missing };
}
