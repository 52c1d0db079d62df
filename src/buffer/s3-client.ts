import { PassThrough, type Readable } from 'node:stream';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { BufferError, DatamillError, isTransient } from '../core/errors.js';
import type { S3Connection, S3Location } from './s3-url.js';

/*
 * The one place Datamill talks to S3 (the buffer, the s3 source, Redshift staging): client set-up, error
 * classification, streaming upload and download, listing and deleting. Memory stays flat in object size:
 * uploads buffer at most partSize × queueSize, downloads stream with backpressure.
 */

export type ErrorKind = new (message: string, options?: { retryable?: boolean; cause?: unknown; details?: Record<string, unknown> }) => DatamillError;

/** Throttling, 5xx and network errors are retried inside the SDK (exponential backoff with jitter). */
const DEFAULT_ATTEMPTS = 6;
const PART_SIZE = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 4;

export function createS3Client(conn: S3Connection): S3Client {
  const custom = conn.endpoint !== undefined;
  return new S3Client({
    region: conn.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    followRegionRedirects: true,
    maxAttempts: conn.maxAttempts ?? DEFAULT_ATTEMPTS,
    retryMode: 'standard',
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
    ...(custom ? { endpoint: conn.endpoint, requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
    ...(conn.pathStyle !== undefined ? { forcePathStyle: conn.pathStyle } : {}),
    ...(conn.credentials ? { credentials: conn.credentials } : {}),
  });
}

const DENIED = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'TokenRefreshRequired', 'InvalidToken', 'AllAccessDisabled', 'AccountProblem', 'InvalidObjectState']);
const RETRY = new Set(['SlowDown', 'ServiceUnavailable', 'InternalError', 'RequestTimeout', 'Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestTimeoutException', 'TimeoutError', 'OperationAborted']);

/**
 * Turns an SDK failure into a classified error naming what was being done. A wrong bucket, refused or
 * expired credentials and a missing object are not worth retrying; throttling, 5xx and network blips are
 * (the SDK has already retried them `maxAttempts` times when this is reached).
 */
export function s3Failure(err: unknown, what: string, kind: ErrorKind = BufferError): DatamillError {
  if (err instanceof DatamillError) return err;
  const e = (err ?? {}) as { name?: string; Code?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number }; $response?: { statusCode?: number } };
  const code = e.Code ?? e.name ?? e.code ?? 'Error';
  const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  const tag = `${code}${status ? `, HTTP ${status}` : ''}`;
  const fail = (message: string, retryable: boolean, expected?: string) => new kind(`${what}: ${message} (${tag})`, { retryable, cause: err, details: expected ? { expected } : {} });
  if (code === 'NoSuchBucket') return fail('the bucket does not exist', false, 'an existing bucket the credentials can reach');
  if (code === 'NoSuchKey' || (status === 404 && code === 'NotFound')) return fail('no such object', false);
  if (DENIED.has(code) || status === 403) return fail(`S3 refused the request: ${e.message ?? 'access denied'}`, false, 'valid, unexpired credentials with access to the bucket');
  if (code === 'CredentialsProviderError') return fail(`no AWS credentials found: ${e.message ?? ''}`.trim(), false, 'credentials from the standard AWS chain, or access_key_id + secret_access_key references');
  if (RETRY.has(code) || (status !== undefined && (status >= 500 || status === 429)) || isTransient(err)) return fail(e.message ?? 'S3 is unavailable', true);
  if (status !== undefined && status >= 400) return fail(e.message ?? 'request refused', false);
  return fail(e.message ?? String(err), isTransient(err) || (err as { $retryable?: unknown }).$retryable !== undefined);
}

export const s3Uri = (loc: S3Location) => `s3://${loc.bucket}/${loc.key}`;

/**
 * Uploads a stream as one object: one PUT when it is small, else a multipart upload with parts sent in
 * parallel. On failure the multipart upload is aborted (nothing half-written stays visible).
 */
export async function uploadStream(client: S3Client, target: S3Location, body: Readable, options: { signal?: AbortSignal; kind?: ErrorKind; contentType?: string } = {}): Promise<void> {
  const abortController = new AbortController();
  const onAbort = () => abortController.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const upload = new Upload({
    client,
    params: { Bucket: target.bucket, Key: target.key, Body: body, ...(options.contentType ? { ContentType: options.contentType } : {}) },
    partSize: PART_SIZE,
    queueSize: PARTS_IN_FLIGHT,
    leavePartsOnError: false,
    abortController,
  });
  try {
    await upload.done();
  } catch (err) {
    body.destroy();
    throw s3Failure(err, `cannot write ${s3Uri(target)}`, options.kind);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

export async function putObjectText(client: S3Client, target: S3Location, text: string, kind?: ErrorKind): Promise<void> {
  try {
    await client.send(new PutObjectCommand({ Bucket: target.bucket, Key: target.key, Body: text, ContentType: 'application/json' }));
  } catch (err) {
    throw s3Failure(err, `cannot write ${s3Uri(target)}`, kind);
  }
}

/** An object's text, or null when there is no such key. */
export async function getObjectText(client: S3Client, source: S3Location, kind?: ErrorKind): Promise<string | null> {
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: source.bucket, Key: source.key }));
    return await res.Body!.transformToString('utf8');
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') return null;
    throw s3Failure(err, `cannot read ${s3Uri(source)}`, kind);
  }
}

/**
 * Streams an object. Returned at once (readers take a Readable) with the request under way; a failure,
 * before or during the body, surfaces as a classified error on the stream.
 */
export function openObject(client: S3Client, source: S3Location, kind?: ErrorKind): Readable {
  const abort = new AbortController();
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  const fail = (err: unknown) => {
    if (!out.destroyed) out.destroy(s3Failure(err, `cannot read ${s3Uri(source)}`, kind));
  };
  out.on('close', () => abort.abort());
  client.send(new GetObjectCommand({ Bucket: source.bucket, Key: source.key }), { abortSignal: abort.signal }).then((res) => {
    const body = res.Body as Readable;
    if (out.destroyed) return void body.destroy();
    body.on('error', fail);
    out.on('close', () => body.destroy());
    body.pipe(out);
  }, fail);
  return out;
}

export interface S3ObjectInfo {
  key: string;
  size: number;
  lastModified: Date;
}

/** Every object under a prefix, in key order, page by page (no listing is held whole in memory). */
export async function* listObjects(client: S3Client, under: S3Location, kind?: ErrorKind): AsyncGenerator<S3ObjectInfo> {
  let token: string | undefined;
  do {
    let page;
    try {
      page = await client.send(new ListObjectsV2Command({ Bucket: under.bucket, Prefix: under.key, ...(token ? { ContinuationToken: token } : {}) }));
    } catch (err) {
      throw s3Failure(err, `cannot list ${s3Uri(under)}`, kind);
    }
    for (const o of page.Contents ?? []) {
      if (o.Key !== undefined) yield { key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** Deletes keys, a thousand per request (the API's limit); a key that is already gone is not an error. */
export async function deleteKeys(client: S3Client, bucket: string, keys: string[], kind?: ErrorKind): Promise<void> {
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    let res;
    try {
      res = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
    } catch (err) {
      throw s3Failure(err, `cannot delete ${batch.length} object(s) in s3://${bucket}`, kind);
    }
    const failed = (res.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
    if (failed.length > 0) throw s3Failure({ name: failed[0]!.Code, message: failed[0]!.Message }, `cannot delete s3://${bucket}/${failed[0]!.Key} (and ${failed.length - 1} more)`, kind);
  }
}
