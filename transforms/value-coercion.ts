import type { FieldType, Value } from '../src/core/schema.js';
import { compileDateTimeFormat, formatDateParts, newParts, zonedToEpoch } from './datetime-format.js';
import { canonicalDecimal } from './decimal.js';
import { configError } from './columns.js';

const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const isoMatch = compileDateTimeFormat('iso', (m) => configError('iso', m));
const isoParts = newParts();
const utcEpoch = zonedToEpoch('UTC');

/**
 * A JSON value (from YAML, or a leaf of a json column) as the in-memory value of `type`, or undefined
 * when it does not fit. Numeric text is accepted for numeric types; numbers and booleans become text
 * for string. Null stays null.
 */
export function coerceToType(type: FieldType, v: unknown): Value | undefined {
  if (v === null) return null;
  switch (type) {
    case 'string':
      return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
    case 'integer': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && INTEGER_TEXT.test(v) ? Number(v) : NaN;
      return Number.isSafeInteger(n) ? n : undefined;
    }
    case 'number': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && NUMBER_TEXT.test(v) ? Number(v) : NaN;
      return Number.isFinite(n) ? n : undefined;
    }
    case 'decimal':
      if (typeof v === 'number') return Number.isFinite(v) ? (canonicalDecimal(String(v)) ?? undefined) : undefined;
      return typeof v === 'string' ? (canonicalDecimal(v) ?? undefined) : undefined;
    case 'boolean':
      return typeof v === 'boolean' ? v : undefined;
    case 'timestamp':
      if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
      return typeof v === 'string' && isoMatch(v, isoParts) ? utcEpoch(isoParts) : undefined;
    case 'date':
      return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) && isoMatch(v, isoParts) ? formatDateParts(isoParts) : undefined;
    case 'json':
      return v as Value;
  }
}

/** What coerceToType accepts for a type, for error messages. */
export function expectedText(type: FieldType): string {
  switch (type) {
    case 'string':
      return 'text';
    case 'integer':
      return 'a safe integer';
    case 'number':
      return 'a finite number';
    case 'decimal':
      return "a decimal number like 12.50 (or '12.50')";
    case 'boolean':
      return 'true or false';
    case 'timestamp':
      return "an ISO-8601 time like '2026-01-31T12:00:00Z' or epoch milliseconds";
    case 'date':
      return "a date like '2026-01-31'";
    case 'json':
      return 'any JSON value';
  }
}
