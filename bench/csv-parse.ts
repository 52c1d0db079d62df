/**
 * Throughput of the CSV reader alone: `node dist/bench/csv-parse.js [rows]` (default 1,000,000 rows,
 * ~215 MB). The file is generated once into the temp folder and reused.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readCsvPart, DEFAULT_CSV } from '../adapters/csv/reader.js';
import { writeTrafficCsv } from './traffic-data.js';

export interface CsvParseFigures {
  rows: number;
  bytes: number;
  seconds: number;
  mbPerSecond: number;
  rowsPerSecond: number;
}

export async function benchCsvParse(rows = 1_000_000): Promise<CsvParseFigures> {
  const path = join(tmpdir(), `datamill-traffic-${rows}.csv`);
  if (!existsSync(path)) await writeTrafficCsv(path, rows);
  const bytes = statSync(path).size;
  const part = { name: 'part-00000.csv', rows, bytes, sha256: '', origin: path };
  const started = process.hrtime.bigint();
  let records = 0;
  let fields = 0;
  for await (const batch of readCsvPart(part, createReadStream(path, { highWaterMark: 1 << 20 }), DEFAULT_CSV)) {
    records += batch.records.length;
    // Touch the last record's fields so the work cannot be skipped.
    fields += (batch.records[batch.records.length - 1] as string[] | undefined)?.length ?? 0;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (records !== rows) throw new Error(`expected ${rows} records, read ${records} (${fields})`);
  return { rows: records, bytes, seconds, mbPerSecond: bytes / 1e6 / seconds, rowsPerSecond: records / seconds };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = Number(process.argv[2] ?? 1_000_000);
  for (let run = 1; run <= 3; run++) {
    const f = await benchCsvParse(rows);
    console.log(`csv reader run ${run}: ${f.rows} rows, ${(f.bytes / 1e6).toFixed(1)} MB in ${f.seconds.toFixed(2)} s → ${f.mbPerSecond.toFixed(1)} MB/s, ${Math.round(f.rowsPerSecond).toLocaleString('en-US')} rows/s`);
  }
}
