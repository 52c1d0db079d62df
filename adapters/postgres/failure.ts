import { DatamillError, isTransient, LoadError } from '../../src/core/errors.js';
import type { PartInfo } from '../../src/buffer/manifest.js';
import { redact } from '../../src/spec/secrets.js';

/** The fields of a PostgreSQL ErrorResponse that help a user find the problem. */
interface PgErrorFields {
  code?: string;
  message?: string;
  detail?: string;
  hint?: string;
  where?: string;
  table?: string;
  column?: string;
  constraint?: string;
}

/**
 * COPY reports "line N" of the whole stream; the sink sends the parts one after another, so line N is a
 * row of one part. Naming the part and its row lets a user open the buffered input and see the value.
 */
export function locateCopyLine(where: string | undefined, parts: readonly PartInfo[]): string | null {
  const m = where ? /COPY [^,]+, line (\d+)/.exec(where) : null;
  if (!m) return null;
  let line = Number(m[1]);
  for (const p of parts) {
    if (line <= p.rows) return `${p.name} row ${line}`;
    line -= p.rows;
  }
  return null;
}

/**
 * Turns whatever a load threw into a LoadError that says which table, which SQLSTATE, which column and
 * PostgreSQL's own message and detail. Data errors (classes 22, 23) are never retried: the same rows
 * would fail the same way.
 */
export function loadFailure(err: unknown, targetDisplay: string, parts: readonly PartInfo[]): DatamillError {
  if (err instanceof DatamillError) return err;
  const e = (err ?? {}) as PgErrorFields;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const isSqlState = code !== undefined && /^[0-9A-Z]{5}$/.test(code);
  const bits: string[] = [];
  if (isSqlState) bits.push(`SQLSTATE ${code}`);
  // COPY names the column only in its context line ("COPY t, line 2, column n: …").
  const column = e.column ?? (e.where ? /^COPY [^,]+, line \d+, column ([^:]+):/.exec(e.where)?.[1] : undefined);
  if (column) bits.push(`column ${column}`);
  if (e.constraint) bits.push(`constraint ${e.constraint}`);
  const at = locateCopyLine(e.where, parts);
  if (at) bits.push(`input ${at}`);
  let message = `load into ${targetDisplay} failed: ${e.message ?? String(err)}`;
  if (bits.length > 0) message += ` (${bits.join(', ')})`;
  if (e.detail) message += `; ${e.detail}`;
  if (e.where) message += `; ${e.where.split('\n')[0]!.slice(0, 300)}`;
  if (e.hint) message += `; hint: ${e.hint}`;
  const dataError = isSqlState && (code.startsWith('22') || code.startsWith('23'));
  return new LoadError(redact(message), {
    retryable: !dataError && isTransient(err),
    details: { where: e.table ? `${targetDisplay} (${e.table})` : targetDisplay, sqlstate: code, column, input: at ?? undefined },
    cause: err,
  });
}
