import type { Readable } from 'node:stream';
import { DeleteObjectsCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { LoadError } from '../../src/core/errors.js';
import type { StageContext } from '../../src/core/stage-context.js';
import { redact } from '../../src/spec/secrets.js';
import { splitS3Url, type RedshiftSinkConfig } from './config.js';

/**
 * The S3 side of a Redshift load, behind one small interface: the only place this connector touches S3.
 * (When the shared S3 client of the S3 buffer lands, `createStagingStore` is the one function to rebuild
 * on top of it.)
 */
export interface StagingStore {
  /** `s3://bucket/prefix/…/<load>/`: every object of this load is under it. */
  readonly prefix: string;
  url(name: string): string;
  /** Streams one object; multipart, so memory does not grow with its size. */
  put(name: string, body: Readable | string): Promise<void>;
  /** Deletes every object this store put. */
  removeAll(): Promise<void>;
}

/** Errors of S3 that no retry fixes: a wrong bucket, wrong or missing credentials, no permission. */
const PERMANENT = new Set(['NoSuchBucket', 'AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidBucketName', 'AllAccessDisabled', 'CredentialsProviderError']);

export function stagingFailure(err: unknown, what: string): LoadError {
  const e = (err ?? {}) as { name?: string; Code?: string; message?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  const code = e.Code ?? e.name ?? e.code ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const permanent = PERMANENT.has(code) || status === 403 || status === 404 || status === 400;
  return new LoadError(redact(`staging in S3 failed: ${what}: ${code}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(err)}`), {
    retryable: !permanent,
    details: { where: what, expected: permanent ? 'an existing bucket the given credentials may write to' : 'a reachable S3 endpoint' },
    cause: err,
  });
}

/** The S3 client the staging store uses; references in `s3:` are resolved here, at the moment of use. */
export function stagingClient(config: Pick<RedshiftSinkConfig, 's3'>, ctx: Pick<StageContext, 'secret'>): S3Client {
  const s3 = config.s3;
  const options: S3ClientConfig = { forcePathStyle: s3?.path_style ?? false, maxAttempts: 4 };
  const region = s3?.region ? ctx.secret(s3.region) : process.env.AWS_REGION;
  options.region = region ?? 'us-east-1';
  if (s3?.endpoint) options.endpoint = ctx.secret(s3.endpoint);
  if (s3?.access_key_id && s3.secret_access_key) {
    options.credentials = { accessKeyId: ctx.secret(s3.access_key_id), secretAccessKey: ctx.secret(s3.secret_access_key), ...(s3.session_token ? { sessionToken: ctx.secret(s3.session_token) } : {}) };
  }
  return new S3Client(options);
}

export function createStagingStore(config: Pick<RedshiftSinkConfig, 's3' | 'staging'>, ctx: Pick<StageContext, 'secret' | 'signal'>, loadPath: string, client = stagingClient(config, ctx)): StagingStore {
  const { bucket, prefix } = splitS3Url(config.staging);
  const base = [prefix, loadPath].filter((p) => p.length > 0).join('/');
  const keys: string[] = [];
  const keyOf = (name: string) => `${base}/${name}`;
  return {
    prefix: `s3://${bucket}/${base}/`,
    url: (name) => `s3://${bucket}/${keyOf(name)}`,
    async put(name, body) {
      const key = keyOf(name);
      keys.push(key);
      const upload = new Upload({ client, params: { Bucket: bucket, Key: key, Body: body }, partSize: 8 * 1024 * 1024, queueSize: 2, leavePartsOnError: false });
      const onAbort = () => void upload.abort().catch(() => {});
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      try {
        await upload.done();
      } catch (err) {
        throw stagingFailure(err, `s3://${bucket}/${key}`);
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
      }
    },
    async removeAll() {
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000);
        try {
          await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
        } catch (err) {
          throw stagingFailure(err, `s3://${bucket}/${base}/`);
        }
      }
      keys.length = 0;
    },
  };
}
