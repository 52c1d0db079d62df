/**
 * The common typed format every adapted row is in. Rows are positional arrays aligned with a Schema:
 * millions of small arrays are far cheaper than objects with repeated keys.
 *
 * In-memory representation per type (and why):
 * - string    → string
 * - integer   → number, always a safe integer (|n| ≤ 2^53-1); loaded as bigint
 * - number    → number, finite (double precision)
 * - decimal   → string in canonical form /^-?\d+(\.\d+)?$/ — exact, never rounded through a double
 * - boolean   → boolean
 * - timestamp → number of milliseconds since the epoch, UTC (cheap to compare and do arithmetic on)
 * - date      → string "YYYY-MM-DD" (sorts and compares correctly as text)
 * - json      → any parsed JSON value (object, array, string, number, boolean)
 * - null      → null, for every type
 */
export const FIELD_TYPES = ['string', 'integer', 'number', 'decimal', 'boolean', 'timestamp', 'date', 'json'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export interface Field {
  readonly name: string;
  readonly type: FieldType;
}

export type Schema = readonly Field[];

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type Value = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type Row = Value[];

export function fieldIndex(schema: Schema, name: string): number {
  for (let i = 0; i < schema.length; i++) if (schema[i]!.name === name) return i;
  return -1;
}

export function fieldNames(schema: Schema): string[] {
  return schema.map((f) => f.name);
}

export function isNumericType(type: FieldType): boolean {
  return type === 'integer' || type === 'number' || type === 'decimal';
}
