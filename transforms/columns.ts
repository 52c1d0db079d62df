import { TransformError } from '../src/core/errors.js';
import { fieldIndex, fieldNames, type FieldType, type Schema } from '../src/core/schema.js';

/** A compile-time problem with a step's config, prefixed with the step's place in the job file. */
export function configError(where: string, message: string, details: Record<string, unknown> = {}): TransformError {
  return new TransformError(`${where}: ${message}`, { details: { where, ...details } });
}

function knownList(schema: Schema): string {
  return schema.length === 0 ? '(none)' : fieldNames(schema).join(', ');
}

/** The index of a column, or an error naming the step, the bad name and every known column. */
export function requireColumn(schema: Schema, name: string, where: string): number {
  const i = fieldIndex(schema, name);
  if (i === -1) {
    throw configError(where, `unknown column '${name}'; known: ${knownList(schema)}`, { value: name, expected: fieldNames(schema).join(', ') });
  }
  return i;
}

/** Like requireColumn, and the column must be one of `types`. */
export function requireColumnOfType(schema: Schema, name: string, types: readonly FieldType[], where: string, purpose: string): number {
  const i = requireColumn(schema, name, where);
  const type = schema[i]!.type;
  if (!types.includes(type)) {
    throw configError(where, `column '${name}' is ${type}; ${purpose} needs ${types.join(' or ')}`, { value: type, expected: types.join(', ') });
  }
  return i;
}

/** Fails when a schema would end up with two columns of the same name. */
export function assertUniqueNames(schema: Schema, where: string): void {
  const seen = new Set<string>();
  for (const f of schema) {
    if (seen.has(f.name)) throw configError(where, `column '${f.name}' would appear twice in the output`, { value: f.name });
    seen.add(f.name);
  }
}
