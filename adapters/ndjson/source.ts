import type { ExtractResult, Source } from '../../src/core/connector.js';
import { resolveSourceFiles, snapshotFile } from '../csv/file-snapshot.js';
import type { NdjsonConfig } from './config.js';

/** Snapshots the matching NDJSON files into the buffer unchanged, one part per file. */
export function createNdjsonSource(config: NdjsonConfig): Source {
  return {
    async extract(ctx, out): Promise<ExtractResult> {
      const files = await resolveSourceFiles(config.path, ctx.baseDir);
      const parts = [];
      for (const [i, file] of files.entries()) {
        ctx.signal.throwIfAborted();
        parts.push(await snapshotFile(file, i, ctx, out, { ext: 'ndjson', compression: config.compression, headerLines: 0 }));
      }
      ctx.log.info(`extracted ${files.length} ndjson file(s)`, { files: files.length, rows: parts.reduce((a, p) => a + p.rows, 0) });
      return { format: 'ndjson', parts, figures: { files: files.length } };
    },
  };
}
