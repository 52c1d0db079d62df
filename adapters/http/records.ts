import { SourceError } from '../../src/core/errors.js';
import { redact } from '../../src/spec/secrets.js';
import { snippet, type HttpResponse } from './client.js';

/** The value at a dotted path (`data.items`) of a parsed JSON document; undefined when any step is missing. */
export function valueAt(doc: unknown, path: string): unknown {
  let v = doc;
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    return keys.length === 0 ? 'an empty object' : `an object with keys ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? ', …' : ''}`;
  }
  return `a ${typeof value}`;
}

/** What a page must hold, for error messages. */
function expectation(path: string | undefined): string {
  return path === undefined ? 'a JSON array of records (or set extract.records to the path of the array)' : `a JSON document with an array of records at '${path}' (extract.records)`;
}

/** Parses a page and finds its records, or fails naming the page and what was expected. Never retryable: the same request gets the same answer. */
export function pageRecords(response: HttpResponse, path: string | undefined, display: string): { body: unknown; records: unknown[] } {
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch (err) {
    const type = response.headers.get('content-type');
    throw new SourceError(redact(`${display}: the response is not JSON (${(err as Error).message}${type ? `; content-type ${type}` : ''})${snippet(response.text)}; expected ${expectation(path)}`), {
      details: { where: display, expected: expectation(path) },
    });
  }
  const records = path === undefined ? body : valueAt(body, path);
  if (!Array.isArray(records)) {
    const found = path === undefined ? `the response is ${kindOf(body)}` : `at '${path}' there is ${kindOf(records)}${records === undefined ? ` (the response is ${kindOf(body)})` : ''}`;
    throw new SourceError(redact(`${display}: ${found}; expected ${expectation(path)}`), { details: { where: display, value: found, expected: expectation(path) } });
  }
  return { body, records };
}

/**
 * Orders two cursor values: numerically when both are numbers (or numeric text), as instants when both
 * read as timestamps, as text otherwise.
 */
export function compareCursor(a: string | number, b: string | number): number {
  const na = typeof a === 'number' ? a : a.trim() === '' ? NaN : Number(a);
  const nb = typeof b === 'number' ? b : b.trim() === '' ? NaN : Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  const ta = Date.parse(String(a));
  const tb = Date.parse(String(b));
  if (!Number.isNaN(ta) && !Number.isNaN(tb) && ta !== tb) return ta - tb;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}
