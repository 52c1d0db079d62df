import type { S3Client } from '@aws-sdk/client-s3';
import type { PartInfo } from '../../src/buffer/manifest.js';
import { createS3Client, listObjects, openObject, s3Uri } from '../../src/buffer/s3-client.js';
import { parseS3Location, resolveS3Settings, type S3Location } from '../../src/buffer/s3-url.js';
import type { ExtractResult, Source } from '../../src/core/connector.js';
import { SourceError } from '../../src/core/errors.js';
import { snapshotStream } from '../csv/file-snapshot.js';
import { csvDialect } from '../csv/source.js';
import type { S3SourceConfig } from './config.js';
import { globPrefix, globToRegExp, isGlob } from './key-glob.js';

/**
 * The objects one `url` names, in key order: a glob's matches, else the object with exactly that key,
 * else every object under it as a folder. Folder markers (keys ending in `/`) are not objects.
 */
export async function matchingObjects(client: S3Client, at: S3Location): Promise<string[]> {
  const glob = isGlob(at.key) ? globToRegExp(at.key) : null;
  const prefix = glob ? globPrefix(at.key) : at.key;
  const under = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  const found: string[] = [];
  for await (const o of listObjects(client, { bucket: at.bucket, key: prefix }, SourceError)) {
    if (o.key.endsWith('/')) continue;
    if (glob ? glob.test(o.key) : o.key === at.key || o.key.startsWith(under)) found.push(o.key);
  }
  if (!glob && found.includes(at.key)) return [at.key];
  if (found.length === 0) {
    throw new SourceError(`no object matches ${s3Uri(at)}`, { details: { where: `s3://${at.bucket}/${prefix}`, value: s3Uri(at), expected: glob ? 'a glob matching at least one object' : 'an existing object or a prefix with objects under it' } });
  }
  return found;
}

function gzipOf(key: string, mode: S3SourceConfig['compression']): boolean | 'sniff' {
  if (mode !== 'auto') return mode === 'gzip';
  return key.endsWith('.gz') ? true : 'sniff';
}

/** Snapshots the matching objects into the buffer unchanged, one part per object, streaming. */
export function createS3Source(config: S3SourceConfig): Source {
  return {
    async extract(ctx, out): Promise<ExtractResult> {
      const client = createS3Client(resolveS3Settings(config, ctx.baseDir));
      const urls = Array.isArray(config.url) ? config.url : [config.url];
      const keys: S3Location[] = [];
      const seen = new Set<string>();
      for (const url of urls) {
        const at = parseS3Location(url);
        for (const key of await matchingObjects(client, at)) {
          if (seen.has(`${at.bucket}/${key}`)) continue;
          seen.add(`${at.bucket}/${key}`);
          keys.push({ bucket: at.bucket, key });
        }
      }
      const parts: PartInfo[] = [];
      const options = { ext: config.format, compression: config.compression, headerLines: config.format === 'csv' && config.header ? 1 : 0 };
      for (const [i, object] of keys.entries()) {
        ctx.signal.throwIfAborted();
        const uri = s3Uri(object);
        parts.push(await snapshotStream(openObject(client, object, SourceError), { origin: uri, where: uri, gzip: gzipOf(object.key, config.compression) }, i, ctx, out, options));
      }
      client.destroy();
      const rows = parts.reduce((a, p) => a + p.rows, 0);
      ctx.log.info(`extracted ${parts.length} object(s) from S3`, { objects: parts.length, rows });
      const figures = { objects: parts.length, bytes_in: parts.reduce((a, p) => a + p.bytes, 0) };
      return config.format === 'csv' ? { format: 'csv', csv: csvDialect(config), parts, figures } : { format: 'ndjson', parts, figures };
    },
  };
}
