import type { FieldType, Value } from '../src/core/schema.js';
import { compareDecimal } from './decimal.js';

export type Compare = (a: Value, b: Value) => number;

const byNumber: Compare = (a, b) => (a as number) - (b as number);
const byText: Compare = (a, b) => ((a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0);
const byBoolean: Compare = (a, b) => Number(a) - Number(b);
const byJson: Compare = (a, b) => byText(JSON.stringify(a), JSON.stringify(b));

/** The order of non-null values of a type: numeric for numbers and decimals, text order for strings and dates. */
export function comparerFor(type: FieldType): Compare {
  switch (type) {
    case 'integer':
    case 'number':
    case 'timestamp':
      return byNumber;
    case 'decimal':
      return (a, b) => compareDecimal(a as string, b as string);
    case 'boolean':
      return byBoolean;
    case 'json':
      return byJson;
    default:
      return byText;
  }
}

/**
 * A string that is equal for equal values of one type and differs for different ones (null included),
 * used as a hash-map key. Decimals equal in value but written with different scales ("1.5", "1.50")
 * are one group, as in SQL.
 */
export function keyPart(type: FieldType, v: Value): string {
  if (v === null) return '\u0000';
  switch (type) {
    case 'string':
    case 'date':
      return v as string;
    case 'decimal': {
      const s = v as string;
      return s.indexOf('.') === -1 ? s : s.replace(/\.?0+$/, '');
    }
    case 'json':
      return JSON.stringify(v);
    default:
      return String(v);
  }
}
