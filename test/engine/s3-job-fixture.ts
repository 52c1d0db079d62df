import type { TestBucket } from '../support/s3-bucket.js';
import { siteStatsJob } from './events-fixture.js';

/** The site-stats job reading its events from S3 and buffering every stage's output in S3. */
export function s3Job(bucket: TestBucket, options: { endpoint?: string; mode?: 'append' | 'upsert' } = {}): string {
  const endpoint = options.endpoint ?? bucket.endpoint;
  const connection = `    endpoint: ${endpoint}\n    access_key_id: "\${env:BUF_KEY}"\n    secret_access_key: "\${env:BUF_SECRET}"`;
  return siteStatsJob({ mode: options.mode ?? 'upsert', path: 'unused' })
    .replace('buffer: file://.datamill/buffer', `buffer:\n  url: s3://${bucket.name}/datamill\n${connection.replace(/^ {2}/gm, '')}`)
    .replace(/extract:\n {2}from: csv\n {2}path: unused/, `extract:\n  from: s3\n  url: s3://${bucket.name}/incoming/events-*.csv\n  format: csv\n${connection.replace(/^ {4}/gm, '  ')}`);
}
