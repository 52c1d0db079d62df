import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { listObjects } from '../../src/buffer/s3-client.js';
import { s3Endpoint } from '../support/s3-bucket.js';

/** The bucket the production examples name (`s3://acme-datamill/…`), on the test s3rver. */
export const PRODUCTION_BUCKET = 'acme-datamill';

export interface ProductionBucket {
  client: S3Client;
  /** What a datamill process needs to reach that bucket on s3rver instead of AWS: the standard SDK variables, so the job files stay as they are. */
  env: Record<string, string>;
  keys(prefix: string): Promise<string[]>;
}

export async function productionBucket(): Promise<ProductionBucket> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const endpoint = await s3Endpoint();
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  // Both examples share the bucket (runs are apart by job and run id), as they would in production;
  // s3rver answers BucketAlreadyExists where AWS says BucketAlreadyOwnedByYou.
  await client.send(new CreateBucketCommand({ Bucket: PRODUCTION_BUCKET })).catch((err: { name?: string }) => {
    if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists') throw err;
  });
  return {
    client,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
    },
    async keys(prefix) {
      const out: string[] = [];
      for await (const o of listObjects(client, { bucket: PRODUCTION_BUCKET, key: prefix })) out.push(o.key);
      return out.sort();
    },
  };
}
