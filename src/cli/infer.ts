import { createReadStream } from 'node:fs';
import { relative } from 'node:path';
import { Document, isMap, type YAMLMap } from 'yaml';
import { readCsvPart, DEFAULT_CSV } from '../../adapters/csv/reader.js';
import { isGzip, resolveSourceFiles } from '../../adapters/csv/file-snapshot.js';
import { readNdjsonPart } from '../../adapters/ndjson/reader.js';
import type { PartInfo } from '../buffer/manifest.js';
import type { RawBatch } from '../core/connector.js';
import { SourceError } from '../core/errors.js';
import type { FieldType } from '../core/schema.js';
import { coerce, INVALID } from '../stage/coerce.js';

/** Types tried in order: the first that every non-empty sampled value fits wins (string always does). */
const CANDIDATES: FieldType[] = ['integer', 'number', 'boolean', 'date', 'timestamp'];
const DELIMITERS = [',', ';', '\t', '|'];

interface ColumnStats {
  name: string;
  types: Set<FieldType>;
  empty: number;
  jsonLike: boolean;
  /** Every number had a '.' with at most 6 digits after it and no exponent: money-like, so decimal. */
  fixedScale: boolean;
}

/** A name usable unquoted in SQL and expressions: snake_case ASCII. */
function fieldName(column: string, taken: Set<string>): string {
  let n = column.trim().replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '') || 'column';
  if (/^\d/.test(n)) n = `c_${n}`;
  let unique = n;
  for (let i = 2; taken.has(unique); i++) unique = `${n}_${i}`;
  taken.add(unique);
  return unique;
}

async function sniffDelimiter(file: string, gz: boolean): Promise<string> {
  const part: PartInfo = { name: file, rows: 0, bytes: 0, sha256: '', origin: file, ...(gz ? { compression: 'gzip' as const } : {}) };
  let best = ',';
  let bestWidth = 1;
  for (const delimiter of DELIMITERS) {
    for await (const batch of readCsvPart(part, createReadStream(file), { ...DEFAULT_CSV, delimiter })) {
      const widths = new Set(batch.records.slice(0, 50).map((r) => (r as string[]).length));
      const width = batch.columns?.length ?? 1;
      if (widths.size <= 1 && width > bestWidth) [best, bestWidth] = [delimiter, width];
      break;
    }
  }
  return best;
}

/**
 * `datamill infer SOURCE`: samples a csv or ndjson file (or the first of a glob) and prints the extract and
 * adapt blocks of a job with inferred types, ready to paste and edit.
 */
export async function inferJobBlocks(source: string, options: { rows: number; cwd: string }): Promise<string> {
  const [file] = await resolveSourceFiles(source, options.cwd);
  if (!file) throw new SourceError(`no file matches ${source}`);
  const gz = await isGzip(file, 'auto');
  const ndjson = /\.(nd)?jsonl?(\.gz)?$|\.ndjson(\.gz)?$/i.test(file);
  const delimiter = ndjson ? ',' : await sniffDelimiter(file, gz);
  const part: PartInfo = { name: file, rows: 0, bytes: 0, sha256: '', origin: relative(options.cwd, file), ...(gz ? { compression: 'gzip' as const } : {}) };
  const batches: AsyncIterable<RawBatch> = ndjson ? readNdjsonPart(part, createReadStream(file)) : readCsvPart(part, createReadStream(file), { ...DEFAULT_CSV, delimiter });
  const stats = new Map<string, ColumnStats>();
  const stat = (name: string) => stats.get(name) ?? stats.set(name, { name, types: new Set(CANDIDATES), empty: 0, jsonLike: false, fixedScale: true }).get(name)!;
  let seen = 0;
  const observe = (name: string, value: unknown) => {
    const s = stat(name);
    if (value === undefined || value === null || value === '') return void s.empty++;
    if (typeof value === 'object' || (typeof value === 'string' && /^\s*[[{]/.test(value))) s.jsonLike = true;
    for (const t of s.types) if (coerce(t, value) === INVALID) s.types.delete(t);
    if (!(typeof value === 'string' && /^-?\d+\.\d{1,6}$/.test(value))) s.fixedScale = false;
  };
  outer: for await (const batch of batches) {
    for (const rec of batch.records) {
      if (seen++ >= options.rows) break outer;
      if (Array.isArray(rec)) batch.columns?.forEach((c, i) => observe(c, rec[i]));
      else for (const [k, v] of Object.entries(rec)) observe(k, v);
    }
  }
  const taken = new Set<string>();
  const fields: Record<string, unknown> = {};
  for (const s of stats.values()) {
    let type: FieldType = s.jsonLike ? 'json' : (CANDIDATES.find((t) => s.types.has(t)) ?? 'string');
    if (type === 'number' && s.fixedScale) type = 'decimal';
    const name = fieldName(s.name, taken);
    const required = s.empty === 0 && seen > 0;
    const plain = name === s.name && !required;
    fields[name] = plain ? type : { type, ...(name !== s.name ? { from: s.name } : {}), ...(required ? { required: true } : {}) };
  }
  const extract = ndjson ? { from: 'ndjson', path: source } : { from: 'csv', path: source, ...(delimiter !== ',' ? { delimiter } : {}) };
  const header = `# inferred from ${Math.min(seen, options.rows)} records of ${relative(options.cwd, file) || file}; check the types before use\n`;
  const doc = new Document({ extract, adapt: { fields, on_invalid: 'reject', max_reject_ratio: 0 } });
  // One line per field, as people write adapt blocks by hand.
  const fieldsNode = doc.getIn(['adapt', 'fields']) as YAMLMap;
  for (const pair of fieldsNode.items) if (isMap(pair.value)) pair.value.flow = true;
  return header + doc.toString();
}
