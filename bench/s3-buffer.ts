/**
 * `npm run bench -- --buffer s3`: the same job with its buffer on a real S3-compatible server (s3rver,
 * started here as the test suite starts it), so the cost of the S3 buffer shows as a ratio to
 * `psql \copy` next to the file buffer's.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { openBuffer } from '../src/buffer/open-buffer.js';
import { s3Env, startS3 } from '../test/support/s3-server.js';

export interface BenchS3 {
  /** The `buffer:` block of a bench job whose runs go under `prefix`. */
  bufferYaml(prefix: string): string;
  /** What the job's processes need in their environment (s3rver's fixed keys). */
  env: Record<string, string>;
  /** Deletes a finished round's runs so the next round starts from an empty bucket. */
  clear(prefix: string): Promise<void>;
  stop(): void;
}

const BUCKET = 'datamill-bench';

export async function startBenchS3(): Promise<BenchS3> {
  const server = await startS3();
  const env = { ...s3Env(server.endpoint), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  // The bench's own clean-up reaches the bucket through the standard credential chain too.
  Object.assign(process.env, env);
  const client = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  client.destroy();
  const url = (prefix: string) => `s3://${BUCKET}/${prefix}?endpoint=${encodeURIComponent(server.endpoint)}`;
  return {
    env,
    bufferYaml: (prefix) => `buffer: { url: "s3://${BUCKET}/${prefix}", endpoint: "${server.endpoint}" }`,
    async clear(prefix) {
      const buffer = openBuffer(url(prefix), process.cwd());
      for await (const run of buffer.listRuns()) await buffer.removeRun(run);
    },
    stop: () => server.stop(),
  };
}
