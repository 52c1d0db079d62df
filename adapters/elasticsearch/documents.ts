import { fieldIndex, type FieldType, type Row, type Schema, type Value } from '../../src/core/schema.js';
import { formatTimestamp } from '../../src/core/timestamp-text.js';

/** Elasticsearch refuses `_id`s longer than 512 bytes. */
const MAX_ID_BYTES = 512;

/** One row as a _bulk operation: the action line and the source line, each ending in a newline. */
export interface BulkItem {
  /** 1-based row number in the load's input, for reject reasons that point at the row. */
  row: number;
  id: string;
  text: string;
}

/** A row that cannot be a document (no stable `_id`), with why and its would-be source. */
export type EncodedRow = BulkItem | { row: number; id: null; reason: string; field: string; source: string };

/** JSON text of a non-null value, written by type so no generic serializer walks each row. */
const JSON_OF: Record<FieldType, (v: Value) => string> = {
  string: (v) => JSON.stringify(v),
  integer: (v) => String(v),
  number: (v) => String(v),
  // Canonical decimal text is valid JSON number text: sent as written, never rounded through a double here.
  decimal: (v) => v as string,
  boolean: (v) => (v ? 'true' : 'false'),
  timestamp: (v) => `"${formatTimestamp(v as number)}"`,
  date: (v) => `"${v as string}"`,
  json: (v) => JSON.stringify(v),
};

/** How a key value reads inside an `_id`: the text a user would type to look the document up. */
const ID_TEXT_OF: Record<FieldType, (v: Value) => string> = {
  string: (v) => v as string,
  integer: (v) => String(v),
  number: (v) => String(v),
  decimal: (v) => v as string,
  boolean: (v) => (v ? 'true' : 'false'),
  timestamp: (v) => formatTimestamp(v as number),
  date: (v) => v as string,
  json: (v) => JSON.stringify(v),
};

export interface EncoderOptions {
  /** append/replace index whole documents; upsert updates them (doc_as_upsert). */
  operation: 'index' | 'update';
  key?: readonly string[];
  /** Without a key, `_id` is `<run>-<row>`: the same in every attempt of the run, so a retry overwrites. */
  run: string;
}

/**
 * Builds the _bulk lines of each row. `_id` comes from the key columns (one column: its value as text;
 * several: the values joined by `|`, with `|` and `\` escaped), so loading the same rows again
 * overwrites documents instead of adding copies. A row whose key is null or too long cannot have a
 * stable `_id` and is returned as a reject.
 */
export function documentEncoder(schema: Schema, options: EncoderOptions): (row: Row, rowNumber: number) => EncodedRow {
  const prefixes = schema.map((f, i) => `${i === 0 ? '{' : ','}${JSON.stringify(f.name)}:`);
  const values = schema.map((f) => JSON_OF[f.type]);
  const keyAt = (options.key ?? []).map((k) => fieldIndex(schema, k));
  const idTexts = keyAt.map((i) => ID_TEXT_OF[schema[i]!.type]);
  const n = schema.length;
  const source = (row: Row): string => {
    let out = n === 0 ? '{' : '';
    for (let i = 0; i < n; i++) {
      const v = row[i];
      out += prefixes[i]! + (v === null || v === undefined ? 'null' : values[i]!(v));
    }
    return out + '}';
  };
  const idOf = (row: Row, rowNumber: number): string | { field: string } => {
    if (keyAt.length === 0) return `${options.run}-${rowNumber}`;
    if (keyAt.length === 1) {
      const v = row[keyAt[0]!];
      return v === null || v === undefined ? { field: schema[keyAt[0]!]!.name } : idTexts[0]!(v);
    }
    let id = '';
    for (let k = 0; k < keyAt.length; k++) {
      const v = row[keyAt[k]!];
      if (v === null || v === undefined) return { field: schema[keyAt[k]!]!.name };
      id += (k === 0 ? '' : '|') + idTexts[k]!(v).replace(/[\\|]/g, '\\$&');
    }
    return id;
  };
  const update = options.operation === 'update';
  return (row, rowNumber) => {
    const id = idOf(row, rowNumber);
    if (typeof id !== 'string') return { row: rowNumber, id: null, field: id.field, reason: `key column ${id.field} is null: a document needs every key value for its _id`, source: source(row) };
    if (id.length > MAX_ID_BYTES / 4 && Buffer.byteLength(id) > MAX_ID_BYTES) {
      return { row: rowNumber, id: null, field: options.key!.join(', '), reason: `the _id made from ${options.key!.join(', ')} is ${Buffer.byteLength(id)} bytes; Elasticsearch allows at most ${MAX_ID_BYTES}`, source: source(row) };
    }
    const text = update
      ? `{"update":{"_id":${JSON.stringify(id)},"retry_on_conflict":3}}\n{"doc":${source(row)},"doc_as_upsert":true}\n`
      : `{"index":{"_id":${JSON.stringify(id)}}}\n${source(row)}\n`;
    return { row: rowNumber, id, text };
  };
}

/** The document inside an encoded item (for reject records): the source line, unwrapped from an update. */
export function documentOf(item: BulkItem): unknown {
  const source = item.text.slice(item.text.indexOf('\n') + 1, -1);
  return item.text.startsWith('{"update"') ? (JSON.parse(source) as { doc: unknown }).doc : JSON.parse(source);
}
