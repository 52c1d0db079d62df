import type { CopyRequest } from './copy-from-s3.js';

/**
 * Recognizes a Redshift `COPY table (columns) FROM 's3://…' … MANIFEST … FORMAT AS CSV … GZIP` statement;
 * anything else is not a COPY from S3 and runs on PostgreSQL unchanged. Only the form the sink writes is
 * accepted: another form fails loudly instead of being half-understood.
 */
export function parseCopy(sql: string): CopyRequest | null {
  const head = /^\s*COPY\s+("(?:[^"]|"")+"|[\w.]+)\s*\(/i.exec(sql);
  if (!head || !/\bFROM\s+'s3:\/\//i.test(sql)) return null;
  let at = head[0].length;
  const columns: string[] = [];
  let name = '';
  let quoted = false;
  for (; at < sql.length; at++) {
    const c = sql[at]!;
    if (quoted) {
      if (c === '"' && sql[at + 1] === '"') {
        name += '"';
        at++;
      } else if (c === '"') quoted = false;
      else name += c;
    } else if (c === '"') quoted = true;
    else if (c === ',' || c === ')') {
      columns.push(name.trim());
      name = '';
      if (c === ')') break;
    } else name += c;
  }
  const rest = sql.slice(at + 1);
  const from = /^\s*FROM\s+'(s3:\/\/[^']+)'/i.exec(rest);
  for (const needed of [/\bMANIFEST\b/i, /\bFORMAT AS CSV\b/i, /\bGZIP\b/i, /\bIAM_ROLE\b/i]) {
    if (!from || !needed.test(rest)) throw new Error(`the stand-in only performs COPY … FROM 's3://…' IAM_ROLE … MANIFEST FORMAT AS CSV GZIP; got: ${sql}`);
  }
  const maxErrors = Number(/\bMAXERROR\s+(\d+)/i.exec(rest)?.[1] ?? 0);
  return { table: head[1]!, columns, manifestUrl: from![1]!, maxErrors };
}
