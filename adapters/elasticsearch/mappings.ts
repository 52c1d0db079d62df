import type { FieldType, Schema } from '../../src/core/schema.js';

type Mapping = Record<string, unknown>;

/**
 * Field mappings of indices the sink creates. Strings get what Elasticsearch's own dynamic mapping gives
 * them (full text plus a `.keyword` for sorting and aggregations), except key columns, which are
 * identifiers and so plain keywords. Decimals become double (Elasticsearch has no exact decimal type);
 * json values are kept in `_source` but not indexed, since their shape may differ from row to row.
 */
export const ES_FIELD_MAPPINGS: Record<FieldType, Mapping> = {
  string: { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } },
  integer: { type: 'long' },
  number: { type: 'double' },
  decimal: { type: 'double' },
  boolean: { type: 'boolean' },
  timestamp: { type: 'date', format: 'strict_date_optional_time||epoch_millis' },
  date: { type: 'date', format: 'strict_date' },
  json: { type: 'object', enabled: false },
};

const isPlainObject = (v: unknown): v is Mapping => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The mappings of a new index: one property per input column, with the job's `mappings` laid over them
 * (each property replaced whole by the job's, other top-level keys such as `dynamic` taken as given).
 */
export function mappingsFor(schema: Schema, key: readonly string[] | undefined, override: Mapping | undefined): Mapping {
  const keys = new Set(key ?? []);
  const properties: Mapping = {};
  for (const f of schema) properties[f.name] = keys.has(f.name) && f.type === 'string' ? { type: 'keyword' } : ES_FIELD_MAPPINGS[f.type];
  const { properties: extra, ...rest } = override ?? {};
  if (isPlainObject(extra)) Object.assign(properties, extra);
  return { ...rest, properties };
}
