import { z } from 'zod';
import type { Field, Row, Value } from '../src/core/schema.js';
import { configError, requireColumnOfType } from './columns.js';
import { assertTimeZone, compileDateTimeFormat, formatDateParts, newParts, zonedToEpoch } from './datetime-format.js';
import { canonicalDecimal } from './decimal.js';
import type { TransformDef } from './op.js';

const TARGETS = ['timestamp', 'date', 'integer', 'number', 'decimal', 'boolean'] as const;
type Target = (typeof TARGETS)[number];

const fieldConfig = z
  .strictObject({
    as: z.enum(TARGETS).describe('The type to parse the text into'),
    format: z.string().min(1).optional().describe("timestamp/date: 'iso' (default, ISO-8601 with optional offset) or a pattern of YYYY MM DD HH mm ss SSS Z and literal text, e.g. 'DD/MM/YYYY HH:mm'"),
    timezone: z.string().optional().describe('timestamp: IANA zone of times written without an offset (default UTC)'),
    decimal: z.string().length(1).optional().describe("integer/number/decimal: the decimal separator (default '.')"),
    thousands: z.string().length(1).optional().describe('integer/number/decimal: a thousands separator to ignore'),
    true: z.array(z.string()).min(1).optional().describe('boolean: texts meaning true, case-insensitive (default true, t, yes, y, 1)'),
    false: z.array(z.string()).min(1).optional().describe('boolean: texts meaning false, case-insensitive (default false, f, no, n, 0)'),
    on_invalid: z.enum(['reject', 'null']).default('reject').describe('Text that does not parse: reject the row (default) or store null'),
  })
  .describe('How to parse one string column');

const config = z
  .record(z.string().min(1), fieldConfig)
  .describe('Parses string columns into typed values, in place: column → { as, format, … }. Empty or blank text becomes null.');

export type ParseConfig = z.infer<typeof config>;
type FieldOptions = z.infer<typeof fieldConfig>;

/** Marks text that does not parse (null is a valid result: empty text). */
const INVALID = Symbol('invalid');
type Converter = (text: string) => Value | typeof INVALID;

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Undoes locale-specific separators so the text can be matched in its plain form. */
function normalizer(o: FieldOptions): (text: string) => string | null {
  const decimal = o.decimal ?? '.';
  const thousands = o.thousands;
  if (decimal === '.' && thousands === undefined) return (t) => t;
  return (t) => {
    let s = thousands === undefined ? t : t.split(thousands).join('');
    if (decimal !== '.') {
      if (s.includes('.')) return null;
      s = s.replace(decimal, '.');
    }
    return s;
  };
}

function converter(field: string, o: FieldOptions, where: string): { convert: Converter; describe: string } {
  const as: Target = o.as;
  const fail = (message: string) => configError(`${where}.${field}`, message);
  const numeric = as === 'integer' || as === 'number' || as === 'decimal';
  const temporal = as === 'timestamp' || as === 'date';
  if (!temporal && (o.format !== undefined || o.timezone !== undefined)) throw fail(`format and timezone apply to timestamp and date, not ${as}`);
  if (!numeric && (o.decimal !== undefined || o.thousands !== undefined)) throw fail(`decimal and thousands apply to integer, number and decimal, not ${as}`);
  if (as !== 'boolean' && (o.true !== undefined || o.false !== undefined)) throw fail(`true and false apply to boolean, not ${as}`);
  if (o.decimal !== undefined && o.decimal === o.thousands) throw fail(`decimal and thousands separators are both '${o.decimal}'`);

  if (numeric) {
    const normalize = normalizer(o);
    const describe = `(decimal '${o.decimal ?? '.'}'${o.thousands === undefined ? '' : ` thousands '${o.thousands}'`})`;
    if (as === 'integer') {
      return {
        describe,
        convert: (t) => {
          const s = normalize(t);
          if (s === null || !INTEGER.test(s)) return INVALID;
          const n = Number(s);
          return Number.isSafeInteger(n) ? n : INVALID;
        },
      };
    }
    if (as === 'number') {
      return {
        describe,
        convert: (t) => {
          const s = normalize(t);
          if (s === null || !NUMBER.test(s)) return INVALID;
          const n = Number(s);
          return Number.isFinite(n) ? n : INVALID;
        },
      };
    }
    return {
      describe,
      convert: (t) => {
        const s = normalize(t);
        return s === null ? INVALID : (canonicalDecimal(s) ?? INVALID);
      },
    };
  }

  if (as === 'boolean') {
    const yes = new Set((o.true ?? ['true', 't', 'yes', 'y', '1']).map((s) => s.toLowerCase()));
    const no = new Set((o.false ?? ['false', 'f', 'no', 'n', '0']).map((s) => s.toLowerCase()));
    for (const s of yes) if (no.has(s)) throw fail(`'${s}' is listed as both true and false`);
    return {
      describe: `(true: ${[...yes].join(', ')}; false: ${[...no].join(', ')})`,
      convert: (t) => {
        const s = t.toLowerCase();
        return yes.has(s) ? true : no.has(s) ? false : INVALID;
      },
    };
  }

  const format = o.format ?? 'iso';
  const match = compileDateTimeFormat(format, fail);
  const parts = newParts();
  const describe = `(format '${format}')`;
  if (as === 'date') return { describe, convert: (t) => (match(t, parts) ? formatDateParts(parts) : INVALID) };
  const timezone = o.timezone ?? 'UTC';
  try {
    assertTimeZone(timezone);
  } catch {
    throw fail(`unknown time zone '${timezone}' (expected an IANA name like 'Europe/Madrid' or 'UTC')`);
  }
  const toEpoch = zonedToEpoch(timezone);
  return {
    describe,
    convert: (t) => {
      if (!match(t, parts)) return INVALID;
      const ms = toEpoch(parts);
      return Number.isFinite(ms) ? ms : INVALID;
    },
  };
}

function quote(text: string): string {
  return text.length > 80 ? `'${text.slice(0, 80)}…'` : `'${text}'`;
}

export const parse: TransformDef<ParseConfig> = {
  name: 'parse',
  description: 'Parse string columns into timestamps, dates, numbers, decimals or booleans',
  config,
  compile(raw, input, ctx) {
    const fields = config.parse(raw);
    const output: Field[] = [...input];
    const indexes: number[] = [];
    const converters: Converter[] = [];
    const reasons: ((text: string) => string)[] = [];
    const nullOnInvalid: boolean[] = [];
    for (const [name, options] of Object.entries(fields)) {
      const i = requireColumnOfType(input, name, ['string'], ctx.where, 'parse');
      const { convert, describe } = converter(name, options, ctx.where);
      output[i] = { name, type: options.as };
      indexes.push(i);
      converters.push(convert);
      reasons.push((text) => `${name}: ${quote(text)} is not a ${options.as === 'integer' ? 'safe integer' : options.as} ${describe}`);
      nullOnInvalid.push(options.on_invalid === 'null');
    }
    const n = indexes.length;
    return {
      kind: 'stream',
      output,
      push(row, emit, reject) {
        const out: Row = row.slice();
        for (let k = 0; k < n; k++) {
          const i = indexes[k]!;
          const v = row[i];
          if (v === null || v === undefined) continue;
          const text = (v as string).trim();
          if (text.length === 0) {
            out[i] = null;
            continue;
          }
          const parsed = converters[k]!(text);
          if (parsed !== INVALID) out[i] = parsed;
          else if (nullOnInvalid[k]) out[i] = null;
          else return reject(row, reasons[k]!(v as string), input[i]!.name);
        }
        emit(out);
      },
    };
  },
};
