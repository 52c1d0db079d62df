import type { ExtractResult, Source } from '../../src/core/connector.js';
import type { Manifest } from '../../src/buffer/manifest.js';
import type { CsvConfig } from './config.js';
import { snapshotFiles } from './file-snapshot.js';

/** How the parts of a csv extract are to be read back, from the user's config with defaults resolved. */
export function csvDialect(config: Pick<CsvConfig, 'delimiter' | 'quote' | 'escape' | 'header' | 'encoding' | 'columns'>): NonNullable<Manifest['csv']> {
  const dialect: NonNullable<Manifest['csv']> = {
    delimiter: config.delimiter,
    quote: config.quote,
    escape: config.escape ?? config.quote,
    header: config.header,
    encoding: config.encoding,
  };
  if (config.columns) dialect.columns = [...config.columns];
  return dialect;
}

/** Snapshots the matching CSV files into the buffer unchanged, one part per file. */
export function createCsvSource(config: CsvConfig): Source {
  return {
    async extract(ctx, out): Promise<ExtractResult> {
      const parts = await snapshotFiles(config.path, ctx, out, { ext: 'csv', compression: config.compression, headerLines: config.header ? 1 : 0 });
      return { format: 'csv', csv: csvDialect(config), parts, figures: { files: parts.length } };
    },
  };
}
