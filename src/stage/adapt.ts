import type { Readable } from 'node:stream';
import type { StageWriter } from '../buffer/buffer.js';
import type { Manifest, PartInfo } from '../buffer/manifest.js';
import type { RawBatch, RawReader } from '../core/connector.js';
import { AdaptError } from '../core/errors.js';
import type { FieldType, Schema, Value } from '../core/schema.js';
import type { StageContext } from '../core/stage-context.js';
import type { AdaptSpec } from '../spec/job-schema.js';
import { encodeValue } from '../core/row-codec.js';
import { cellFromText, coerce, coerceFailure, INVALID } from './coerce.js';
import { RejectWriter, TypedPartsWriter } from './typed-writer.js';

interface FieldPlan {
  name: string;
  type: FieldType;
  from: string;
  path: string[] | null;
  required: boolean;
  fallback: Value;
  /** The fallback as a COPY-text cell. */
  fallbackCell: string;
  trim: boolean;
}

export interface AdaptOutcome {
  schema: Schema;
  parts: PartInfo[];
  rejects: PartInfo[];
  figures: { rows_in: number; rows_out: number; rows_rejected: number };
  /** Set when the stage must fail (too many rejects, or on_invalid: fail); rejects are still committed. */
  failure?: AdaptError;
}

function plan(spec: AdaptSpec): FieldPlan[] {
  return Object.entries(spec.fields).map(([name, f]) => {
    const o = typeof f === 'string' ? { type: f } : f;
    const from = ('from' in o && o.from) || name;
    let fallback: Value = null;
    if ('default' in o && o.default !== undefined && o.default !== null) {
      const v = coerce(o.type, typeof o.default === 'string' ? o.default : o.default);
      if (v === INVALID) throw new AdaptError(`adapt.fields.${name}.default: ${coerceFailure}`, { details: { where: `adapt.fields.${name}.default`, value: o.default, expected: o.type } });
      fallback = v;
    }
    const fallbackCell = fallback === null ? '\\N' : encodeValue(o.type, fallback);
    return { name, type: o.type, from, path: from.includes('.') ? from.split('.') : null, required: 'required' in o ? o.required === true : false, fallback, fallbackCell, trim: 'trim' in o ? o.trim !== false : true };
  });
}

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/**
 * The adapt stage: every raw record becomes a typed row, or a reject with the original record, where it
 * came from (file:line), the field and the reason. Streams batch by batch; memory does not grow with input.
 */
export async function runAdapt(spec: AdaptSpec, extract: Manifest, reader: RawReader, open: (p: PartInfo) => Readable, out: StageWriter, ctx: StageContext): Promise<AdaptOutcome> {
  const fields = plan(spec);
  const schema: Schema = fields.map((f) => ({ name: f.name, type: f.type }));
  const writer = new TypedPartsWriter(out, schema);
  const rejects = new RejectWriter(out);
  const n = fields.length;
  let rowsIn = 0;
  let failure: AdaptError | undefined;
  let columnsSeen: readonly string[] | null = null;
  let index: number[] = [];
  const cells: string[] = new Array<string>(n).fill('');

  const reject = (batch: RawBatch, i: number, field: string | null, reason: string, raw: unknown) => {
    const where = `${batch.origin}:${batch.lines[i] ?? '?'}`;
    rejects.add({ origin: batch.origin, line: batch.lines[i] ?? null, field, reason, record: raw });
    if (spec.on_invalid === 'fail' && !failure) {
      failure = new AdaptError(`${where}: ${field ? field + ': ' : ''}${reason} (adapt.on_invalid is fail)`, { details: { where, field, expected: 'a valid row' } });
    }
  };

  for await (const batch of reader.read(extract, open, ctx)) {
    if (ctx.signal.aborted) throw new AdaptError('cancelled', { retryable: true });
    rowsIn += batch.records.length + (batch.broken?.length ?? 0);
    for (const b of batch.broken ?? []) {
      rejects.add({ origin: batch.origin, line: b.line, field: null, reason: b.reason, record: b.raw });
      if (spec.on_invalid === 'fail' && !failure) failure = new AdaptError(`${batch.origin}:${b.line}: ${b.reason}`, { details: { where: `${batch.origin}:${b.line}` } });
    }
    if (batch.columns !== null && batch.columns !== columnsSeen) {
      columnsSeen = batch.columns;
      const cols = batch.columns;
      index = fields.map((f) => cols.indexOf(f.from));
      const missing = fields.filter((f, i) => index[i] === -1 && f.required && f.fallback === null);
      if (missing.length > 0) {
        throw new AdaptError(`${batch.origin}: required column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m.from}'`).join(', ')} not in the header (${cols.join(', ')})`, { details: { where: batch.origin, expected: missing.map((m) => m.from).join(', ') } });
      }
    }
    // Rows go straight from raw text to COPY-text lines: the adapt stage never needs the typed values.
    const lines: string[] = [];
    const width = batch.columns?.length ?? 0;
    records: for (let r = 0; r < batch.records.length; r++) {
      const rec = batch.records[r]!;
      const isArray = Array.isArray(rec);
      if (isArray && rec.length !== width) {
        reject(batch, r, null, `expected ${width} columns, found ${rec.length}`, rec);
        continue;
      }
      for (let f = 0; f < n; f++) {
        const p = fields[f]!;
        let raw: unknown;
        if (isArray) raw = index[f]! >= 0 ? rec[index[f]!] : undefined;
        else if (p.path === null) raw = (rec as Record<string, unknown>)[p.from];
        else {
          raw = rec;
          for (const k of p.path) raw = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>)[k] : undefined;
        }
        if (typeof raw === 'string' && p.trim && raw.length > 0 && (isSpace(raw.charCodeAt(0)) || isSpace(raw.charCodeAt(raw.length - 1)))) raw = raw.trim();
        if (raw === undefined || raw === null || raw === '') {
          if (p.required) {
            reject(batch, r, p.name, `${p.name}: required but ${raw === undefined ? 'missing' : 'empty'}`, rec);
            continue records;
          }
          cells[f] = p.fallbackCell;
          continue;
        }
        let cell: string | typeof INVALID;
        if (typeof raw === 'string') cell = cellFromText(p.type, raw);
        else {
          const v = coerce(p.type, raw);
          cell = v === INVALID ? INVALID : v === null ? '\\N' : encodeValue(p.type, v);
        }
        if (cell === INVALID) {
          reject(batch, r, p.name, `${p.name}: ${coerceFailure}`, rec);
          continue records;
        }
        cells[f] = cell;
      }
      lines.push(cells.join('\t'));
    }
    if (failure) break;
    await writer.writeLines(lines);
    await rejects.flush();
    ctx.progress(batch.records.length);
  }

  const rejectParts = await rejects.close();
  const parts = await writer.close();
  const figures = { rows_in: rowsIn, rows_out: writer.rows, rows_rejected: rejects.rows };
  if (!failure && rowsIn > 0 && rejects.rows / rowsIn > spec.max_reject_ratio) {
    const pct = ((100 * rejects.rows) / rowsIn).toFixed(2);
    failure = new AdaptError(`${rejects.rows} of ${rowsIn} rows rejected (${pct}%), above adapt.max_reject_ratio ${spec.max_reject_ratio}; nothing is loaded, the rejects are in adapt/_rejects/`, { details: { where: 'adapt.max_reject_ratio', value: rejects.rows / rowsIn, expected: `≤ ${spec.max_reject_ratio}` } });
  }
  if (rejects.rows > 0) ctx.log.warn(`${rejects.rows} rows rejected`, { rows_rejected: rejects.rows, rows_in: rowsIn });
  const outcome: AdaptOutcome = { schema, parts, rejects: rejectParts, figures };
  if (failure) outcome.failure = failure;
  return outcome;
}
