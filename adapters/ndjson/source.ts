import type { ExtractResult, Source } from '../../src/core/connector.js';
import { snapshotFiles } from '../csv/file-snapshot.js';
import type { NdjsonConfig } from './config.js';

/** Snapshots the matching NDJSON files into the buffer unchanged, one part per file. */
export function createNdjsonSource(config: NdjsonConfig): Source {
  return {
    async extract(ctx, out): Promise<ExtractResult> {
      const parts = await snapshotFiles(config.path, ctx, out, { ext: 'ndjson', compression: config.compression, headerLines: 0 });
      return { format: 'ndjson', parts, figures: { files: parts.length } };
    },
  };
}
