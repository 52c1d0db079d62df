import { LoadError } from '../../src/core/errors.js';
import type { StageLogger } from '../../src/core/stage-context.js';
import { redact } from '../../src/spec/secrets.js';
import type { RedshiftSession } from './session.js';
import { loadErrorsSql } from './sql.js';

/** One row of STL_LOAD_ERRORS: where COPY stopped reading and why. */
export interface CopyErrorRow {
  file: string;
  line: number;
  column: string;
  type: string;
  reason: string;
  /** The value as it was in the file. */
  value: string;
  /** The whole line as it was in the file (Redshift keeps its first 1024 bytes). */
  raw: string;
  code: number;
}

/**
 * Reads what Redshift logged about the files of one load. STL_LOAD_ERRORS is not transactional: its rows
 * stay after the COPY's transaction rolled back. A failure to read it must not hide the COPY's own error.
 */
export async function readCopyErrors(session: RedshiftSession, filePrefix: string, log: StageLogger): Promise<CopyErrorRow[]> {
  try {
    const rows = await session.query(loadErrorsSql(filePrefix));
    return rows.map((r) => ({
      file: r.filename ?? '',
      line: Number(r.line_number ?? 0),
      column: r.colname ?? '',
      type: r.type ?? '',
      reason: r.err_reason ?? '',
      value: r.raw_field_value ?? '',
      raw: r.raw_line ?? '',
      code: Number(r.err_code ?? 0),
    }));
  } catch (err) {
    log.warn(`could not read STL_LOAD_ERRORS on ${session.where}: ${redact((err as Error).message)}`);
    return [];
  }
}

/** Bad rows of a COPY as reject records, like adapt's: where the row was, which field, why, the raw row. */
export function copyRejects(rows: readonly CopyErrorRow[]): Array<Record<string, unknown>> {
  return rows.map((r) => ({ origin: r.file, line: r.line, field: r.column || null, reason: `${r.reason} (Redshift error ${r.code})`, value: r.value, record: r.raw }));
}

/** The LoadError of a failed COPY: the cluster's message plus the first rows of STL_LOAD_ERRORS, all of them in details. */
export function copyFailure(message: string, target: string, where: string, rows: readonly CopyErrorRow[]): LoadError {
  const shown = rows.slice(0, 5).map((r) => `${r.file.split('/').pop()} line ${r.line}${r.column ? `, column ${r.column}` : ''}${r.type ? ` (${r.type})` : ''}: ${r.reason}; value ${JSON.stringify(r.value)}`);
  const more = rows.length > shown.length ? `; and ${rows.length - shown.length} more` : '';
  const text = rows.length > 0
    ? `COPY into the staging table of ${target} failed on ${where}: ${rows.length} bad row${rows.length === 1 ? '' : 's'} in STL_LOAD_ERRORS: ${shown.join('; ')}${more}. Nothing was loaded; the staged files are kept under ${commonPrefix(rows)}`
    : `COPY into the staging table of ${target} failed on ${where}: ${message}. Nothing was loaded`;
  return new LoadError(redact(text), {
    retryable: false,
    details: { where: target, load_errors: rows, rejects: copyRejects(rows), expected: 'values the target columns can hold' },
  });
}

function commonPrefix(rows: readonly CopyErrorRow[]): string {
  const file = rows[0]?.file ?? '';
  return file.slice(0, file.lastIndexOf('/') + 1);
}
