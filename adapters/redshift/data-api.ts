import { setTimeout as sleep } from 'node:timers/promises';
import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
  type DescribeStatementResponse,
  type Field,
  type RedshiftDataClientConfig,
} from '@aws-sdk/client-redshift-data';
import { LoadError } from '../../src/core/errors.js';
import type { StageContext } from '../../src/core/stage-context.js';
import { redact } from '../../src/spec/secrets.js';
import { parseDuration } from '../../src/spec/units.js';
import type { DataApiConfig } from './config.js';
import type { Statement } from './sql.js';
import { isTransientMessage, StatementFailure, type RedshiftSession, type ResultRow, type SessionHooks } from './session.js';

const MAX_POLL_MS = 5000;
/** SDK errors a later attempt can get past; the rest (validation, missing cluster, no permission) cannot. */
const RETRYABLE_SDK = new Set(['ThrottlingException', 'InternalServerException', 'ActiveStatementsExceededException', 'ActiveSessionsExceededException', 'BatchExecuteStatementException', 'ExecuteStatementException', 'TimeoutError', 'ECONNREFUSED', 'ECONNRESET']);

export function dataApiClient(config: DataApiConfig, ctx: Pick<StageContext, 'secret'>): RedshiftDataClient {
  const options: RedshiftDataClientConfig = { maxAttempts: 4 };
  const region = config.region ? ctx.secret(config.region) : process.env.AWS_REGION;
  options.region = region ?? 'us-east-1';
  if (config.endpoint) options.endpoint = ctx.secret(config.endpoint);
  if (config.access_key_id && config.secret_access_key) {
    options.credentials = { accessKeyId: ctx.secret(config.access_key_id), secretAccessKey: ctx.secret(config.secret_access_key), ...(config.session_token ? { sessionToken: ctx.secret(config.session_token) } : {}) };
  }
  return new RedshiftDataClient(options);
}

/**
 * Redshift through the Data API: a statement is submitted, then DescribeStatement is polled with a
 * doubling wait until it ends. BatchExecuteStatement runs its statements as one transaction. A statement
 * still running at `timeoutMs`, or when the stage is cancelled, is cancelled with CancelStatement.
 */
export function dataApiSession(config: DataApiConfig, ctx: Pick<StageContext, 'secret' | 'signal'>, timeoutMs: number, hooks: SessionHooks = {}, client = dataApiClient(config, ctx)): RedshiftSession {
  const target = {
    ...(config.cluster_identifier ? { ClusterIdentifier: config.cluster_identifier } : { WorkgroupName: config.workgroup_name! }),
    Database: config.database,
    ...(config.secret_arn ? { SecretArn: ctx.secret(config.secret_arn) } : config.db_user ? { DbUser: config.db_user } : {}),
  };
  const where = `${config.cluster_identifier ? `cluster ${config.cluster_identifier}` : `workgroup ${config.workgroup_name}`}/${config.database} (Data API)`;
  const firstPoll = parseDuration(config.poll) ?? 250;

  const send = async <T>(what: string, call: (options: { abortSignal: AbortSignal }) => Promise<T>): Promise<T> => {
    try {
      return await call({ abortSignal: ctx.signal });
    } catch (err) {
      const e = err as { name?: string; code?: string; message?: string };
      const name = e.name ?? e.code ?? 'Error';
      throw new LoadError(redact(`Redshift Data API ${what} on ${where} failed: ${name}: ${e.message ?? String(err)}`), {
        retryable: RETRYABLE_SDK.has(name) || RETRYABLE_SDK.has(e.code ?? '') || isTransientMessage(e.message ?? ''),
        details: { where, expected: 'a reachable Data API endpoint and a principal allowed to use it' },
        cause: err,
      });
    }
  };

  /** Polls until the statement ends; cancels it past the timeout or on abort. */
  const wait = async (id: string): Promise<DescribeStatementResponse> => {
    const deadline = Date.now() + timeoutMs;
    let pause = firstPoll;
    for (;;) {
      if (ctx.signal.aborted || Date.now() > deadline) {
        await client.send(new CancelStatementCommand({ Id: id })).catch(() => {});
        if (ctx.signal.aborted) throw new LoadError(`statement ${id} on ${where} was cancelled with the stage; nothing was committed`, { details: { where } });
        throw new LoadError(`statement ${id} on ${where} ran longer than load.statement_timeout (${timeoutMs} ms) and was cancelled; nothing was committed`, {
          retryable: true,
          details: { where: 'load.statement_timeout', value: timeoutMs, expected: 'a longer statement_timeout, or a less busy cluster' },
        });
      }
      const d = await send('DescribeStatement', (o) => client.send(new DescribeStatementCommand({ Id: id }), o));
      if (d.Status === 'FINISHED' || d.Status === 'FAILED' || d.Status === 'ABORTED') return d;
      await sleep(Math.min(pause, Math.max(0, deadline - Date.now()) + 1), undefined, { signal: ctx.signal }).catch(() => {});
      pause = Math.min(pause * 2, MAX_POLL_MS);
    }
  };

  const failed = (d: DescribeStatementResponse, statements: readonly Statement[]): StatementFailure => {
    const subs = d.SubStatements ?? [];
    const index = subs.findIndex((s) => s.Status === 'FAILED' || (s.Error !== undefined && s.Error !== ''));
    const message = redact(subs[index]?.Error ?? d.Error ?? `statement ${d.Status?.toLowerCase() ?? 'failed'}`);
    const statement = index >= 0 ? (statements[index] ?? null) : null;
    return new StatementFailure(d.Status === 'ABORTED' ? `statement aborted: ${message}` : message, index, statement, d.Status === 'ABORTED' || isTransientMessage(message));
  };

  return {
    where,
    async query(sql) {
      const started = await send('ExecuteStatement', (o) => client.send(new ExecuteStatementCommand({ Sql: sql, ...target, StatementName: 'datamill' }), o));
      const d = await wait(started.Id!);
      if (d.Status !== 'FINISHED') throw failed(d, [{ sql }]);
      if (!d.HasResultSet) return [];
      const rows: ResultRow[] = [];
      let next: string | undefined;
      do {
        const token = next;
        const page = await send('GetStatementResult', (o) => client.send(new GetStatementResultCommand({ Id: started.Id!, ...(token ? { NextToken: token } : {}) }), o));
        const names = (page.ColumnMetadata ?? []).map((c, i) => c.label ?? c.name ?? `column${i + 1}`);
        for (const record of page.Records ?? []) rows.push(Object.fromEntries(record.map((f, i) => [names[i]!, fieldText(f)])));
        next = page.NextToken;
      } while (next);
      return rows;
    },
    async transaction(statements) {
      const sqls = statements.map((s) => s.sql);
      const started = await send('BatchExecuteStatement', (o) => client.send(new BatchExecuteStatementCommand({ Sqls: sqls, ...target, StatementName: 'datamill-load' }), o));
      // The batch now runs and commits on the cluster whatever becomes of this process.
      hooks.beforeCommit?.();
      const d = await wait(started.Id!);
      if (d.Status !== 'FINISHED') throw failed(d, statements);
    },
    async close() {
      client.destroy();
    },
  };
}

function fieldText(f: Field): string | null {
  if (f.isNull) return null;
  if (f.stringValue !== undefined) return f.stringValue;
  if (f.longValue !== undefined) return String(f.longValue);
  if (f.doubleValue !== undefined) return String(f.doubleValue);
  if (f.booleanValue !== undefined) return f.booleanValue ? 'true' : 'false';
  if (f.blobValue !== undefined) return Buffer.from(f.blobValue).toString('base64');
  return null;
}
