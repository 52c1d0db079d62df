import { z } from 'zod';
import { durationSchema } from '../../src/spec/common-schemas.js';
import { checkModeKey, LOAD_MODES } from '../postgres/config.js';

const TABLE = /^[^.]+(\.[^.]+)?$/;
const S3_URL = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/.*)?$/;

/** The Redshift Data API: no network path to the cluster needed, IAM decides who may run what. */
const dataApiConfig = z
  .strictObject({
    cluster_identifier: z.string().min(1).optional().describe('Provisioned cluster to run on (or workgroup_name for Serverless)'),
    workgroup_name: z.string().min(1).optional().describe('Redshift Serverless workgroup to run on (or cluster_identifier)'),
    database: z.string().min(1).describe('Database name'),
    db_user: z.string().min(1).optional().describe('Database user, with temporary credentials (provisioned clusters); or secret_arn'),
    secret_arn: z.string().min(1).optional().describe('Secrets Manager secret holding the database credentials; or db_user'),
    region: z.string().min(1).optional().describe('AWS region of the cluster (default: the standard AWS chain, AWS_REGION)'),
    endpoint: z.string().min(1).optional().describe('Custom Data API endpoint URL (a VPC endpoint, or a test stand-in)'),
    access_key_id: z.string().min(1).optional().describe('AWS access key id, normally a ${env:…} reference (default: the standard AWS credential chain)'),
    secret_access_key: z.string().min(1).optional().describe('AWS secret access key, normally a ${env:…} reference'),
    session_token: z.string().min(1).optional().describe('AWS session token of temporary credentials, normally a ${env:…} reference'),
    poll: durationSchema.default('250ms').describe('First wait between DescribeStatement polls; doubles up to 5s'),
  })
  .superRefine((c, ctx) => {
    if ((c.cluster_identifier === undefined) === (c.workgroup_name === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['cluster_identifier'], message: 'give exactly one of cluster_identifier (provisioned) or workgroup_name (Serverless)' });
    }
    if (c.workgroup_name === undefined && c.db_user === undefined && c.secret_arn === undefined) {
      ctx.addIssue({ code: 'custom', path: ['db_user'], message: 'a provisioned cluster needs db_user or secret_arn' });
    }
    if ((c.access_key_id === undefined) !== (c.secret_access_key === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['access_key_id'], message: 'give both access_key_id and secret_access_key, or neither (the standard AWS chain)' });
    }
  })
  .describe('Connect through the Redshift Data API');

/** Where the CSV.gz parts and the COPY manifest are staged, and how to reach that store. */
const s3Config = z
  .strictObject({
    region: z.string().min(1).optional().describe('Region of the staging bucket; also passed to COPY (REGION) when set'),
    endpoint: z.string().min(1).optional().describe('Custom S3 endpoint URL (S3-compatible stores)'),
    path_style: z.boolean().default(false).describe('Path-style addressing (http://host/bucket/key), for S3-compatible stores'),
    access_key_id: z.string().min(1).optional().describe('AWS access key id, normally a ${env:…} reference (default: the standard AWS credential chain)'),
    secret_access_key: z.string().min(1).optional().describe('AWS secret access key, normally a ${env:…} reference'),
    session_token: z.string().min(1).optional().describe('AWS session token of temporary credentials, normally a ${env:…} reference'),
  })
  .refine((c) => (c.access_key_id === undefined) === (c.secret_access_key === undefined), { message: 'give both access_key_id and secret_access_key, or neither', path: ['access_key_id'] })
  .describe('How the loader reaches the staging bucket (the cluster reads it with iam_role)');

export const redshiftSinkConfig = z
  .object({
    to: z.literal('redshift'),
    url: z.string().min(1).optional().describe('PostgreSQL wire protocol: postgres://user:password@cluster-host:5439/database, normally "${env:REDSHIFT_URL}"'),
    data_api: dataApiConfig.optional(),
    table: z.string().regex(TABLE, 'table must be "schema.table" or "table" (one or two dot-separated, non-empty names)').describe('Target table, "schema.table" or "table"'),
    mode: z.enum(LOAD_MODES).default('append').describe('append | replace | upsert, applied in one transaction with the run\'s ledger entry'),
    key: z.array(z.string().min(1)).min(1).optional().describe('Columns identifying a row, for mode upsert (and the informational PRIMARY KEY when the table is created)'),
    upsert_with: z.enum(['merge', 'delete-insert']).default('merge').describe('upsert: MERGE, or DELETE … USING then INSERT'),
    create: z.boolean().default(true).describe('Create the table from the input schema when it does not exist'),
    staging: z.string().regex(S3_URL, 'staging must be s3://bucket/prefix').describe('S3 location the CSV.gz parts and the COPY manifest are uploaded to'),
    s3: s3Config.optional(),
    iam_role: z.string().min(1).describe('IAM role the cluster assumes to read the staging bucket (an ARN, or "default")'),
    slices: z.number().int().min(1).max(12800).optional().describe('Slices in the cluster; parts come in multiples of it (default: asked from STV_SLICES, else 1)'),
    diststyle: z.enum(['auto', 'even', 'key', 'all']).optional().describe('DISTSTYLE of a table the sink creates'),
    distkey: z.string().min(1).optional().describe('DISTKEY column of a table the sink creates'),
    sortkey: z.array(z.string().min(1)).min(1).optional().describe('SORTKEY columns of a table the sink creates'),
    interleaved: z.boolean().default(false).describe('INTERLEAVED instead of COMPOUND sort key'),
    encode: z
      .union([z.literal('auto'), z.record(z.string().min(1), z.string().regex(/^[a-z0-9_]+$/i, 'an encoding name such as zstd, az64, lzo, raw'))])
      .optional()
      .describe('Column compression of a table the sink creates: "auto" or { column: encoding }'),
    max_errors: z.number().int().min(0).default(0).describe('COPY MAXERROR: bad rows tolerated (reported as rejects) before COPY fails'),
    statement_timeout: durationSchema.default('30m').describe('Longest wait for one Data API statement before it is cancelled'),
    keep_staged: z.boolean().default(false).describe('Keep the staged S3 objects after a successful load (they are always kept after a failed one)'),
  })
  .strict()
  .superRefine((c, ctx) => {
    checkModeKey(c, ctx);
    if ((c.url === undefined) === (c.data_api === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'give exactly one of url (PostgreSQL wire protocol) or data_api (Redshift Data API)' });
    }
    if (c.distkey !== undefined && c.diststyle !== undefined && c.diststyle !== 'key') {
      ctx.addIssue({ code: 'custom', path: ['diststyle'], message: `distkey needs diststyle key (or leave diststyle out), not ${c.diststyle}` });
    }
    if (c.diststyle === 'key' && c.distkey === undefined) {
      ctx.addIssue({ code: 'custom', path: ['distkey'], message: 'diststyle key needs distkey: the column rows are distributed by' });
    }
  })
  .describe('Load into an Amazon Redshift table through S3 and COPY, exactly once per run');

export type RedshiftSinkSpec = z.input<typeof redshiftSinkConfig>;
export type RedshiftSinkConfig = z.output<typeof redshiftSinkConfig>;
export type DataApiConfig = z.output<typeof dataApiConfig>;
export type StagingS3Config = z.output<typeof s3Config>;

/** `s3://bucket/prefix` → its bucket and its prefix without surrounding slashes. */
export function splitS3Url(url: string): { bucket: string; prefix: string } {
  const m = S3_URL.exec(url);
  if (!m) throw new RangeError(`not an s3:// URL: ${url}`);
  return { bucket: m[1]!, prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '') };
}
