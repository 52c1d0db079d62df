import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { listObjects } from '../../src/buffer/s3-client.js';
import { s3Env, startS3, type S3Server } from './s3-server.js';

let ownServer: S3Server | null = null;

/** The endpoint of the test s3rver: `npm test` starts one for the suite; a file run alone starts its own. */
export async function s3Endpoint(): Promise<string> {
  const fromEnv = process.env.DATAMILL_TEST_S3_ENDPOINT;
  if (fromEnv) return fromEnv;
  if (!ownServer) {
    ownServer = await startS3();
    Object.assign(process.env, s3Env(ownServer.endpoint));
    process.once('exit', () => ownServer?.stop());
  }
  return ownServer.endpoint;
}

export interface TestBucket {
  endpoint: string;
  name: string;
  client: S3Client;
  /** `s3://bucket/prefix?endpoint=…`: a buffer URL on this bucket. */
  bufferUrl(prefix: string): string;
  /** Every key under a prefix, sorted. */
  keys(prefix?: string): Promise<string[]>;
  text(key: string): Promise<string>;
}

/** A fresh bucket per test, so no test sees another's objects. */
export async function testBucket(): Promise<TestBucket> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const endpoint = await s3Endpoint();
  const name = `t-${randomBytes(6).toString('hex')}`;
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return {
    endpoint,
    name,
    client,
    bufferUrl: (prefix) => `s3://${name}/${prefix}?endpoint=${encodeURIComponent(endpoint)}`,
    async keys(prefix = '') {
      const out: string[] = [];
      for await (const o of listObjects(client, { bucket: name, key: prefix })) out.push(o.key);
      return out.sort();
    },
    async text(key) {
      const res = await client.send(new GetObjectCommand({ Bucket: name, Key: key }));
      return res.Body!.transformToString('utf8');
    },
  };
}
