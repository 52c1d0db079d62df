/**
 * How the stand-in indexes one document against an index's mappings, the way Elasticsearch does it:
 * values are checked against their field's type (with Elasticsearch's coercion of numeric strings),
 * unmapped fields are added by dynamic mapping (or refused when `dynamic: strict`), and a value a field
 * cannot take is a per-document `mapper_parsing_exception` with Elasticsearch's reason text.
 */

export type FieldMapping = { type?: string; format?: string; enabled?: boolean; properties?: Record<string, FieldMapping>; dynamic?: unknown; fields?: unknown; [k: string]: unknown };
export interface Mappings {
  dynamic?: unknown;
  properties: Record<string, FieldMapping>;
  [k: string]: unknown;
}

export interface EsError {
  type: string;
  reason: string;
  caused_by?: { type: string; reason: string };
}

class DocumentFailure extends Error {
  constructor(readonly error: EsError) {
    super(error.reason);
  }
}

const INTEGER_TYPES: Record<string, [bigint, bigint]> = {
  long: [-(2n ** 63n), 2n ** 63n - 1n],
  integer: [-(2n ** 31n), 2n ** 31n - 1n],
  short: [-32768n, 32767n],
  byte: [-128n, 127n],
};
const FLOAT_TYPES = new Set(['double', 'float', 'half_float', 'scaled_float']);
const TEXT_TYPES = new Set(['text', 'keyword', 'wildcard', 'constant_keyword', 'match_only_text']);
const STRICT_DATE = /^\d{4}-\d{2}-\d{2}$/;
const STRICT_DATE_OPTIONAL_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}(:\d{2}(:\d{2}([.,]\d{1,9})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/;

function preview(v: unknown): string {
  if (typeof v === 'object' && v !== null) return `{${Object.entries(v).map(([k, x]) => `${k}=${String(x)}`).join(', ')}}`;
  return String(v);
}

function parseFailure(path: string, type: string, id: string, value: unknown, cause: { type: string; reason: string }): DocumentFailure {
  return new DocumentFailure({
    type: 'mapper_parsing_exception',
    reason: `failed to parse field [${path}] of type [${type}] in document with id '${id}'. Preview of field's value: '${preview(value)}'`,
    caused_by: cause,
  });
}

function validDate(text: string, formats: string[]): boolean {
  for (const f of formats) {
    if (f === 'epoch_millis' && /^-?\d+(\.\d+)?$/.test(text)) return true;
    if (f === 'strict_date' && STRICT_DATE.test(text) && !Number.isNaN(Date.parse(text))) return true;
    if ((f === 'strict_date_optional_time' || f === 'date_optional_time') && STRICT_DATE_OPTIONAL_TIME.test(text) && !Number.isNaN(Date.parse(text.replace(',', '.')))) return true;
  }
  return false;
}

type Added = Array<[Record<string, FieldMapping>, string]>;

function checkScalar(m: FieldMapping, path: string, id: string, v: unknown, added: Added): void {
  const type = m.type ?? 'object';
  if (type in INTEGER_TYPES) {
    if (typeof v === 'boolean' || typeof v === 'object') throw parseFailure(path, type, id, v, { type: 'illegal_argument_exception', reason: `Current token (${typeof v === 'boolean' ? (v ? 'VALUE_TRUE' : 'VALUE_FALSE') : 'START_OBJECT'}) not numeric, can not use numeric value accessors` });
    const n = typeof v === 'number' ? v : Number(String(v).trim());
    if (typeof v === 'string' && (v.trim() === '' || Number.isNaN(n))) throw parseFailure(path, type, id, v, { type: 'illegal_argument_exception', reason: `For input string: "${v}"` });
    const [lo, hi] = INTEGER_TYPES[type]!;
    const whole = BigInt(Math.trunc(n));
    if (whole < lo || whole > hi) throw parseFailure(path, type, id, v, { type: 'illegal_argument_exception', reason: `Value [${String(v)}] is out of range for a ${type === 'long' ? 'long' : type}` });
    return;
  }
  if (FLOAT_TYPES.has(type)) {
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (Number.isNaN(n)) throw parseFailure(path, type, id, v, { type: 'illegal_argument_exception', reason: typeof v === 'string' ? `For input string: "${v}"` : `Current token not numeric, can not use numeric value accessors` });
    return;
  }
  if (type === 'boolean') {
    if (typeof v === 'boolean' || v === 'true' || v === 'false' || v === '') return;
    throw parseFailure(path, type, id, v, { type: 'illegal_argument_exception', reason: `Failed to parse value [${preview(v)}] as only [true] or [false] are allowed.` });
  }
  if (type === 'date') {
    const formats = (m.format ?? 'strict_date_optional_time||epoch_millis').split('||');
    const ok = typeof v === 'number' ? formats.includes('epoch_millis') : typeof v === 'string' && validDate(v, formats);
    if (!ok) throw parseFailure(path, type, id, v, { type: 'illegal_argument_exception', reason: `failed to parse date field [${preview(v)}] with format [${formats.join('||')}]` });
    return;
  }
  if (TEXT_TYPES.has(type)) {
    if (typeof v === 'object') throw parseFailure(path, type, id, v, { type: 'illegal_state_exception', reason: `Can't get text on a START_OBJECT at 1:${path.length + 5}` });
    return;
  }
  if (type === 'object' || type === 'nested') {
    if (m.enabled === false) return;
    if (typeof v !== 'object') throw new DocumentFailure({ type: 'mapper_parsing_exception', reason: `object mapping for [${path}] tried to parse field [${path}] as object, but found a concrete value` });
    indexObject(m as Mappings, path + '.', id, v as Record<string, unknown>, true, added);
  }
}

/** The mapping Elasticsearch's dynamic mapping gives a first-seen value (null: none yet). */
function dynamicMapping(v: unknown): FieldMapping | null {
  if (v === null) return null;
  if (Array.isArray(v)) return v.length === 0 ? null : dynamicMapping(v.find((x) => x !== null) ?? null);
  if (typeof v === 'boolean') return { type: 'boolean' };
  if (typeof v === 'number') return Number.isInteger(v) ? { type: 'long' } : { type: 'float' };
  if (typeof v === 'string') {
    if (STRICT_DATE_OPTIONAL_TIME.test(v) && !Number.isNaN(Date.parse(v))) return { type: 'date' };
    return { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } };
  }
  return { properties: {} };
}

function indexObject(m: Mappings, prefix: string, id: string, doc: Record<string, unknown>, nested: boolean, added: Added): void {
  m.properties ??= {};
  for (const [name, value] of Object.entries(doc)) {
    const path = prefix + name;
    let field = m.properties[name];
    if (!field) {
      const dynamic = String(m.dynamic ?? 'true');
      if (dynamic === 'strict') throw new DocumentFailure({ type: 'strict_dynamic_mapping_exception', reason: `[1:${path.length + 3}] mapping set to strict, dynamic introduction of [${name}] within [${nested ? prefix.slice(0, -1) : '_doc'}] is not allowed` });
      if (dynamic === 'false') continue;
      const made = dynamicMapping(value);
      if (!made) continue;
      m.properties[name] = made;
      added.push([m.properties, name]);
      field = made;
    }
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) if (v !== null) checkScalar(field, path, id, v, added);
  }
}

/**
 * Checks a document against `mappings`, adding dynamic fields to it; returns the error Elasticsearch
 * would put in the item's result, or null when the document is indexed. Mapping changes of a document
 * that fails are undone, as Elasticsearch never applies them.
 */
export function indexDocument(mappings: Mappings, id: string, source: unknown): EsError | null {
  if (typeof source !== 'object' || source === null || Array.isArray(source)) {
    return { type: 'mapper_parsing_exception', reason: 'failed to parse', caused_by: { type: 'not_x_content_exception', reason: 'Compressor detection can only be called on some xcontent bytes or compressed xcontent bytes' } };
  }
  const added: Added = [];
  try {
    indexObject(mappings, '', id, source as Record<string, unknown>, false, added);
    return null;
  } catch (err) {
    for (const [container, name] of added) delete container[name];
    if (err instanceof DocumentFailure) return err.error;
    throw err;
  }
}
