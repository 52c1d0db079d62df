/**
 * Named errors with a `retryable` flag: the runtime decides whether to retry a stage from the class of
 * error its process reported, never from message text.
 */
export interface ErrorDetails {
  /** Where the problem is: a file, file:line, a YAML path, a table… */
  where?: string;
  /** The offending value, already safe to print (never a resolved secret). */
  value?: unknown;
  /** What would have been accepted. */
  expected?: string;
  [key: string]: unknown;
}

export class DatamillError extends Error {
  readonly retryable: boolean;
  readonly details: ErrorDetails;
  constructor(message: string, options: { retryable?: boolean; details?: ErrorDetails; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }
}

/** A job file that does not parse or validate. Never retryable. */
export class SpecError extends DatamillError {}
/** An expression (filter/derive) that does not compile. `column` is 1-based within the expression. */
export class ExpressionError extends DatamillError {
  readonly column: number;
  constructor(message: string, column: number, options: { details?: ErrorDetails } = {}) {
    super(message, { retryable: false, ...options });
    this.column = column;
  }
}
/** Reading the source failed (missing file, corrupt gzip, unreachable server). */
export class SourceError extends DatamillError {}
/** Rows could not be adapted (too many rejects, or on_invalid: fail). */
export class AdaptError extends DatamillError {}
/** A transform failed at run time. */
export class TransformError extends DatamillError {}
/** Loading into the sink failed. */
export class LoadError extends DatamillError {}
/** The buffer (object store) failed or holds something unexpected. */
export class BufferError extends DatamillError {}
/** The job asks for something this version cannot do yet. */
export class NotSupportedError extends DatamillError {}

/** Wraps anything thrown into a DatamillError, keeping the original as `cause`. */
export function asDatamillError(err: unknown, fallback: new (m: string, o?: { retryable?: boolean; cause?: unknown }) => DatamillError = DatamillError): DatamillError {
  if (err instanceof DatamillError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new fallback(message, { retryable: isTransient(err), cause: err });
}

const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', '57P01', '57P02', '57P03', '53300', '40001', '40P01', '08000', '08003', '08006', '08001', '08004']);

/** Network blips and PostgreSQL's "try again" SQLSTATEs are worth a retry; everything else is not. */
export function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSIENT_CODES.has(code);
}
