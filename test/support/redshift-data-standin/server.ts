import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { copyFromS3 } from './copy-from-s3.js';
import { parseCopy } from './copy-statement.js';

/**
 * A stand-in for the Redshift Data API (no Redshift can run here): it speaks the real service's JSON
 * protocol (AWS JSON 1.1, `X-Amz-Target: RedshiftData.<Operation>`, the SDK's own request and response
 * shapes and error `__type`s) and runs the SQL on PostgreSQL, as the service runs it on the cluster:
 * each statement in its own session, asynchronously; a batch as one transaction. The only SQL it
 * translates is COPY … FROM 's3://…' (PostgreSQL has none), performed from the S3 server by copyFromS3.
 */

type Status = 'SUBMITTED' | 'PICKED' | 'STARTED' | 'FINISHED' | 'FAILED' | 'ABORTED';

interface Sub {
  sql: string;
  status: Status;
  error?: string;
  rows?: { fields: pg.FieldDef[]; values: unknown[][] };
  resultRows: number;
}

interface StatementRecord {
  id: string;
  batch: boolean;
  subs: Sub[];
  status: Status;
  error?: string;
  createdAt: number;
  updatedAt: number;
  pid?: number;
  request: Record<string, unknown>;
}

export interface RedshiftDataStandin {
  endpoint: string;
  /** Every statement received, in order (what a test asserts was sent). */
  readonly statements: StatementRecord[];
  /** Waits until no statement is running. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

class ApiError extends Error {
  constructor(readonly type: string, message: string) {
    super(message);
  }
}

const TEXT = (v: string) => v;

export async function startRedshiftDataStandin(options: { databaseUrl: string; s3: S3Client }): Promise<RedshiftDataStandin> {
  const statements: StatementRecord[] = [];
  const byId = new Map<string, StatementRecord>();
  const running = new Set<Promise<void>>();

  const execute = async (record: StatementRecord) => {
    // Values come back as PostgreSQL's text, typed by column OID below, as the service types its Fields.
    const client = new pg.Client({ connectionString: options.databaseUrl, types: { getTypeParser: () => TEXT } });
    client.on('error', () => {});
    await client.connect();
    record.pid = (client as unknown as { processID: number }).processID;
    record.status = 'STARTED';
    let i = 0;
    try {
      if (record.batch) await client.query('BEGIN');
      for (; i < record.subs.length; i++) {
        const sub = record.subs[i]!;
        if ((record.status as Status) === 'ABORTED') throw new Error('Query cancelled on user\'s request');
        sub.status = 'STARTED';
        const copy = parseCopy(sub.sql);
        if (copy) {
          await copyFromS3(client, copy, options.s3, options.databaseUrl);
          sub.resultRows = -1;
        } else {
          const r = await client.query({ text: sub.sql, rowMode: 'array' });
          const result = Array.isArray(r) ? r[r.length - 1]! : r;
          if (result.fields.length > 0) sub.rows = { fields: result.fields, values: result.rows as unknown[][] };
          sub.resultRows = result.fields.length > 0 ? result.rows.length : (result.rowCount ?? -1);
        }
        sub.status = 'FINISHED';
      }
      if (record.batch) await client.query('COMMIT');
      record.status = 'FINISHED';
    } catch (err) {
      if (record.batch) await client.query('ROLLBACK').catch(() => {});
      const message = `ERROR: ${(err as Error).message}`;
      const sub = record.subs[i];
      if (sub) {
        sub.status = 'FAILED';
        sub.error = message;
      }
      for (const later of record.subs.slice(i + 1)) later.status = 'ABORTED';
      if ((record.status as Status) !== 'ABORTED') record.status = 'FAILED';
      record.error = message;
    } finally {
      record.updatedAt = Date.now();
      await client.end().catch(() => {});
    }
  };

  const submit = (request: Record<string, unknown>, sqls: string[], batch: boolean) => {
    if (typeof request.Database !== 'string') throw new ApiError('ValidationException', 'Database is required');
    if ((request.ClusterIdentifier === undefined) === (request.WorkgroupName === undefined)) {
      throw new ApiError('ValidationException', 'Either ClusterIdentifier or WorkgroupName must be specified');
    }
    if (request.ClusterIdentifier !== undefined && request.DbUser === undefined && request.SecretArn === undefined) {
      throw new ApiError('ValidationException', 'Either DbUser or SecretArn must be specified for a provisioned cluster');
    }
    const now = Date.now();
    const record: StatementRecord = { id: randomUUID(), batch, subs: sqls.map((sql) => ({ sql, status: 'SUBMITTED', resultRows: -1 })), status: 'SUBMITTED', createdAt: now, updatedAt: now, request };
    statements.push(record);
    byId.set(record.id, record);
    const job = execute(record).finally(() => running.delete(job));
    running.add(job);
    const { Sql: _sql, Sqls: _sqls, ...echo } = request;
    return { Id: record.id, CreatedAt: now / 1000, Status: 'SUBMITTED', ...echo };
  };

  const find = (id: unknown): { record: StatementRecord; sub: Sub | null } => {
    if (typeof id !== 'string') throw new ApiError('ValidationException', 'Id is required');
    const [base, n] = id.split(':');
    const record = byId.get(base!);
    if (!record) throw new ApiError('ResourceNotFoundException', `Query ${id} does not exist`);
    if (n === undefined) return { record, sub: record.batch ? null : record.subs[0]! };
    const sub = record.subs[Number(n) - 1];
    if (!record.batch || !sub) throw new ApiError('ResourceNotFoundException', `Query ${id} does not exist`);
    return { record, sub };
  };

  const operations: Record<string, (body: Record<string, unknown>) => Promise<unknown> | unknown> = {
    ExecuteStatement(body) {
      if (typeof body.Sql !== 'string' || body.Sql.length === 0) throw new ApiError('ValidationException', 'Sql is required');
      return submit(body, [body.Sql], false);
    },
    BatchExecuteStatement(body) {
      const sqls = body.Sqls;
      if (!Array.isArray(sqls) || sqls.length === 0 || sqls.length > 40) throw new ApiError('ValidationException', 'Sqls must hold 1 to 40 statements');
      return submit(body, sqls as string[], true);
    },
    DescribeStatement(body) {
      const { record, sub } = find(body.Id);
      const single = sub ?? (record.batch ? null : record.subs[0]!);
      const out: Record<string, unknown> = {
        Id: body.Id, Status: record.status, CreatedAt: record.createdAt / 1000, UpdatedAt: record.updatedAt / 1000,
        Duration: (record.updatedAt - record.createdAt) * 1e6, Database: record.request.Database,
        ...(record.request.ClusterIdentifier ? { ClusterIdentifier: record.request.ClusterIdentifier } : { WorkgroupName: record.request.WorkgroupName }),
        ...(record.request.DbUser ? { DbUser: record.request.DbUser } : {}),
        ...(record.error ? { Error: record.error } : {}),
        ...(record.pid ? { RedshiftPid: record.pid } : {}),
      };
      if (single) Object.assign(out, { QueryString: single.sql, HasResultSet: single.rows !== undefined, ResultRows: single.resultRows });
      else {
        out.HasResultSet = record.subs.some((s) => s.rows !== undefined);
        out.SubStatements = record.subs.map((s, i) => ({
          Id: `${record.id}:${i + 1}`, Status: s.status, QueryString: s.sql, HasResultSet: s.rows !== undefined, ResultRows: s.resultRows,
          CreatedAt: record.createdAt / 1000, UpdatedAt: record.updatedAt / 1000, ...(s.error ? { Error: s.error } : {}),
        }));
      }
      return out;
    },
    GetStatementResult(body) {
      const { record, sub } = find(body.Id);
      if (!sub || record.status !== 'FINISHED' || !sub.rows) throw new ApiError('ValidationException', 'Query does not have result. Please check query status with DescribeStatement.');
      return {
        TotalNumRows: sub.rows.values.length,
        ColumnMetadata: sub.rows.fields.map((f) => ({ name: f.name, label: f.name, typeName: typeName(f.dataTypeID), nullable: 1 })),
        Records: sub.rows.values.map((row) => row.map((v, i) => field(v, sub.rows!.fields[i]!.dataTypeID))),
      };
    },
    async CancelStatement(body) {
      const { record } = find(body.Id);
      if (record.status === 'FINISHED' || record.status === 'FAILED' || record.status === 'ABORTED') {
        throw new ApiError('ValidationException', `Could not cancel a query that is already in ${record.status} state with ID: ${record.id}`);
      }
      record.status = 'ABORTED';
      if (record.pid) {
        const admin = new pg.Client({ connectionString: options.databaseUrl });
        await admin.connect();
        await admin.query('SELECT pg_cancel_backend($1)', [record.pid]).finally(() => admin.end());
      }
      return { Status: true };
    },
  };

  const server = createServer((req, res) => void handle(req, res));
  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify(body));
    };
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      const [service, operation] = target.split('.');
      if (req.method !== 'POST' || service !== 'RedshiftData' || !operation || !operations[operation]) throw new ApiError('UnknownOperationException', `unknown operation ${target}`);
      if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) throw new ApiError('MissingAuthenticationTokenException', 'Missing Authentication Token');
      reply(200, await operations[operation]!(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>));
    } catch (err) {
      const type = err instanceof ApiError ? err.type : 'InternalServerException';
      reply(type === 'InternalServerException' ? 500 : 400, { __type: type, message: (err as Error).message });
    }
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const idle = async () => {
    while (running.size > 0) await Promise.allSettled([...running]);
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    statements,
    idle,
    async stop() {
      await idle();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function typeName(oid: number): string {
  return ({ 16: 'bool', 20: 'int8', 21: 'int2', 23: 'int4', 700: 'float4', 701: 'float8', 1700: 'numeric', 1082: 'date', 1184: 'timestamptz', 1114: 'timestamp' } as Record<number, string>)[oid] ?? 'varchar';
}

/** A value as the service's Field union: longValue for integers, doubleValue, booleanValue, else stringValue. */
function field(v: unknown, oid: number): Record<string, unknown> {
  if (v === null || v === undefined) return { isNull: true };
  const text = String(v);
  if (oid === 20 || oid === 21 || oid === 23) return { longValue: Number(text) };
  if (oid === 700 || oid === 701) return { doubleValue: Number(text) };
  if (oid === 16) return { booleanValue: text === 't' };
  return { stringValue: text };
}
