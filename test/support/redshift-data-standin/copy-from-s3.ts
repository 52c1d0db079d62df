import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { CsvSplitter } from '../../../adapters/csv/splitter.js';

/**
 * What Redshift's `COPY t (cols) FROM 's3://…/manifest.json' MANIFEST FORMAT AS CSV GZIP NULL AS '\N'`
 * does, performed on PostgreSQL (which has no COPY FROM S3): read the manifest and every object it lists
 * from the S3 server, and COPY their rows FROM STDIN. A bad value fails the COPY like Redshift's does,
 * after recording rows in a `stl_load_errors` table shaped like Redshift's (through another connection:
 * Redshift's system log is not rolled back with the transaction either).
 */

/** The test S3 server (s3rver) that `npm test` starts. */
export function testS3Client(): S3Client {
  const endpoint = process.env.DATAMILL_TEST_S3_ENDPOINT;
  if (!endpoint) throw new Error('DATAMILL_TEST_S3_ENDPOINT is not set: run the tests with `npm test` (test/run.ts starts s3rver)');
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
}

export async function freshBucket(s3: S3Client): Promise<string> {
  const bucket = `rs-${randomBytes(5).toString('hex')}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

export async function readObject(s3: S3Client, url: string): Promise<Buffer> {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!m) throw new Error(`not an s3 URL: ${url}`);
  const r = await s3.send(new GetObjectCommand({ Bucket: m[1]!, Key: m[2]! }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

export interface CopyRequest {
  table: string;
  columns: string[];
  manifestUrl: string;
  maxErrors: number;
}

export const STL_LOAD_ERRORS_DDL = `CREATE TABLE IF NOT EXISTS public.stl_load_errors (
  userid integer, slice integer, tbl integer, starttime timestamp DEFAULT now(), session integer, query integer,
  filename character(256), line_number bigint, colname character(127), type character(10), col_length character(10),
  position integer, raw_line character(1024), raw_field_value character(1024), err_code integer, err_reason character(100),
  is_partial integer, start_offset bigint)`;

/** Loads the manifest's objects into `request.table`; `databaseUrl` is where stl_load_errors rows go. */
export async function copyFromS3(client: pg.Client, request: CopyRequest, s3: S3Client, databaseUrl: string): Promise<void> {
  const manifest = JSON.parse((await readObject(s3, request.manifestUrl)).toString('utf8')) as { entries: Array<{ url: string; mandatory?: boolean }> };
  const cols = request.columns.map((c) => `"${c.replace(/"/g, '""')}"`).join(', ');
  let errors = 0;
  for (const entry of manifest.entries) {
    // MAXERROR: a bad line is logged, taken out, and the file copied again (lines stay numbered as in the file).
    const lines = gunzipSync(await readObject(s3, entry.url)).toString('utf8').split('\n');
    const skipped = new Set<number>();
    for (;;) {
      await client.query('SAVEPOINT datamill_copy_file');
      const original = lines.map((_, i) => i + 1).filter((n) => !skipped.has(n));
      const kept = original.map((n) => lines[n - 1]!);
      try {
        await pipeline(Readable.from([kept.join('\n')]), client.query(copyFrom(`COPY ${request.table} (${cols}) FROM STDIN WITH (FORMAT csv, NULL '\\N')`)));
        await client.query('RELEASE SAVEPOINT datamill_copy_file');
        break;
      } catch (err) {
        await client.query('ROLLBACK TO SAVEPOINT datamill_copy_file').catch(() => {});
        const keptLine = Number(/, line (\d+)/.exec((err as pg.DatabaseError).where ?? '')?.[1] ?? 0);
        const line = original[keptLine - 1] ?? 0;
        await recordLoadError(databaseUrl, entry.url, lines[line - 1] ?? '', line, request.columns, err as pg.DatabaseError);
        errors++;
        if (errors > request.maxErrors || line === 0) {
          const table = request.table.replace(/^"|"$/g, '');
          throw Object.assign(new Error(`Load into table '${table}' failed.  Check 'stl_load_errors' system table for details.`), { code: 'XX000' });
        }
        skipped.add(line);
      }
    }
  }
}

async function recordLoadError(databaseUrl: string, file: string, rawLine: string, line: number, columns: string[], err: pg.DatabaseError): Promise<void> {
  const column = /, line \d+, column ([^:]+)/.exec(err.where ?? '')?.[1] ?? '';
  const splitter = new CsvSplitter({ delimiter: ',', quote: '"', escape: '"' });
  splitter.push(rawLine + '\n');
  const fields = splitter.records[0] ?? [];
  const value = fields[columns.indexOf(column)] ?? '';
  const log = new pg.Client({ connectionString: databaseUrl });
  await log.connect();
  try {
    await log.query(STL_LOAD_ERRORS_DDL);
    await log.query(
      `INSERT INTO public.stl_load_errors (filename, line_number, colname, type, raw_line, raw_field_value, err_code, err_reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [file, line, column, '', rawLine.slice(0, 1024), value.slice(0, 1024), 1207, (err.message ?? '').slice(0, 100)],
    );
  } finally {
    await log.end();
  }
}
