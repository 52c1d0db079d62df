import { DatamillError } from '../core/errors.js';

/** Rows a failed load names as the cause (a Redshift COPY and its STL_LOAD_ERRORS, say), kept in load/_rejects/. */
export function rejectsOfFailedLoad(err: unknown): Array<Record<string, unknown>> {
  return err instanceof DatamillError && Array.isArray(err.details.rejects) ? (err.details.rejects as Array<Record<string, unknown>>) : [];
}
