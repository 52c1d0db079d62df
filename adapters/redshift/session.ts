import type pg from 'pg';
import type { CopyPlan, Statement } from './sql.js';

export type ResultRow = Record<string, string | null>;

/**
 * What the sink needs from Redshift, the same over the Data API and over the PostgreSQL wire protocol:
 * single statements with their rows (as text), and a list of statements run as ONE transaction.
 */
export interface RedshiftSession {
  /** Where the statements run, for messages: never a password or a URL. */
  readonly where: string;
  query(sql: string): Promise<ResultRow[]>;
  /** All or nothing: on any failure nothing of it is committed, and a StatementFailure says which one. */
  transaction(statements: readonly Statement[]): Promise<void>;
  close(): Promise<void>;
}

export interface SessionHooks {
  /** Called once every statement of a transaction has been sent and before it commits (fault injection). */
  beforeCommit?: (() => void) | undefined;
}

/** One statement of a transaction failed; the transaction was rolled back. */
export class StatementFailure extends Error {
  constructor(
    message: string,
    readonly index: number,
    readonly statement: Statement | null,
    readonly retryable: boolean,
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StatementFailure';
  }
}

/**
 * Performs a COPY some other way than the server would: PostgreSQL has no COPY FROM 's3://…', so the
 * wire-protocol tests load the same staged objects through this hook. Production leaves it unset.
 */
export type CopyRunner = (client: pg.Client, plan: CopyPlan) => Promise<void>;

/** Redshift's messages for conflicts and capacity: worth a retry, unlike a bad value or a missing table. */
export function isTransientMessage(message: string): boolean {
  return /serializable isolation violation|deadlock|connection (reset|refused|closed)|timed? ?out|throttl|too many|temporarily|try again|ECONNRESET|ECONNREFUSED/i.test(message);
}
