import { z } from 'zod';

const paths = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .describe('A file, a glob (data/events-*.csv.gz) or a list of them, relative to the job file\'s folder. Files are read in sorted order.');

const oneChar = (what: string) => z.string().length(1, { message: `${what} must be exactly one character` });

export const compression = z
  .enum(['auto', 'gzip', 'none'])
  .default('auto')
  .describe('auto: gzip when the name ends in .gz or the file starts with the gzip magic bytes');

export const csvConfig = z
  .object({
    from: z.literal('csv'),
    path: paths,
    delimiter: oneChar('delimiter').default(',').describe('Field separator: one character, e.g. "," ";" "\\t" "|"'),
    quote: oneChar('quote').default('"').describe('Character that encloses fields holding delimiters, quotes or newlines'),
    escape: oneChar('escape')
      .optional()
      .describe('Escapes a quote inside a quoted field. Default: the quote character itself (doubled quotes, RFC 4180); "\\\\" for backslash escapes'),
    header: z.boolean().default(true).describe('The first line of each file names the columns'),
    columns: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Column names: required when header is false, or overriding the header\'s names'),
    encoding: z.enum(['utf8', 'latin1']).default('utf8').describe('Text encoding of the files'),
    compression,
  })
  .strict()
  .refine((c) => c.delimiter !== c.quote, { message: 'delimiter and quote must differ', path: ['delimiter'] })
  .refine((c) => c.delimiter !== '\n' && c.delimiter !== '\r', { message: 'delimiter cannot be a line break', path: ['delimiter'] })
  .describe('Reads CSV files (RFC 4180), optionally gzipped');

export type CsvConfig = z.infer<typeof csvConfig>;
export type CsvConfigInput = z.input<typeof csvConfig>;
