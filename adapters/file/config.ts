import { extname } from 'node:path';
import { z } from 'zod';

export const FILE_FORMATS = ['csv', 'ndjson'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

const BY_EXTENSION: Record<string, FileFormat> = { '.csv': 'csv', '.ndjson': 'ndjson', '.jsonl': 'ndjson' };

/** The format a path implies by its extension, or null when it implies none. */
export function formatOfPath(path: string): FileFormat | null {
  return BY_EXTENSION[extname(path).toLowerCase()] ?? null;
}

export const fileSinkConfig = z
  .object({
    to: z.literal('file'),
    path: z.string().min(1).describe('Output file, relative to the job file\'s folder; replaced whole by each run'),
    format: z.enum(FILE_FORMATS).optional().describe('csv or ndjson; by default from the extension (.csv, .ndjson, .jsonl)'),
    header: z.boolean().default(true).describe('csv: write the column names as the first line'),
    delimiter: z
      .string()
      .length(1, 'delimiter must be exactly one character')
      .refine((d) => d !== '"' && d !== '\r' && d !== '\n', 'delimiter cannot be a double quote, CR or LF')
      .default(',')
      .describe('csv: the field separator, one character'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.format === undefined && formatOfPath(c.path) === null) {
      ctx.addIssue({ code: 'custom', path: ['format'], message: `cannot tell the format of ${c.path} from its extension; set format: csv or format: ndjson (or name it .csv, .ndjson or .jsonl)` });
    }
  })
  .describe('Write the rows to one local file (CSV or NDJSON), replaced atomically');

export type FileSinkSpec = z.input<typeof fileSinkConfig>;
export type FileSinkConfig = z.output<typeof fileSinkConfig>;
