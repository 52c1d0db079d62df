import type { StageWriter, PartWriter } from '../buffer/buffer.js';
import { partName, type PartInfo } from '../buffer/manifest.js';
import { rowEncoder } from '../core/row-codec.js';
import type { Row, Schema } from '../core/schema.js';

const FLUSH_CHARS = 1 << 20;
const PART_BYTES = 256 * 1024 * 1024;

/**
 * Writes typed rows as COPY-text parts: encodes into a ~1 MB string before each write (one await per
 * thousands of rows, not per row) and starts a new part every 256 MB so loads can stream part by part.
 */
export class TypedPartsWriter {
  private readonly encode: (row: Row) => string;
  private current: PartWriter | null = null;
  private pending = '';
  private rowsInPart = 0;
  private bytesInPart = 0;
  private readonly done: PartInfo[] = [];
  rows = 0;

  constructor(private readonly out: StageWriter, schema: Schema) {
    this.encode = rowEncoder(schema);
  }

  /** Adds rows; resolves once they are handed to the buffer (backpressure). */
  async writeBatch(rows: Row[]): Promise<void> {
    const encode = this.encode;
    let text = this.pending;
    for (let i = 0; i < rows.length; i++) text += encode(rows[i]!);
    this.rowsInPart += rows.length;
    this.rows += rows.length;
    this.pending = text;
    if (text.length >= FLUSH_CHARS) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    if (!this.current) this.current = this.out.part(partName(this.done.length, 'tsv'));
    const text = this.pending;
    this.pending = '';
    this.bytesInPart += text.length;
    await this.current.write(text);
    if (this.bytesInPart >= PART_BYTES) await this.closePart();
  }

  private async closePart(): Promise<void> {
    if (!this.current) return;
    this.done.push(await this.current.close(this.rowsInPart));
    this.current = null;
    this.rowsInPart = 0;
    this.bytesInPart = 0;
  }

  async close(): Promise<PartInfo[]> {
    await this.flush();
    await this.closePart();
    return this.done;
  }
}

/** Rejected rows as NDJSON lines in `_rejects/`, each with the reason and where the row came from. */
export class RejectWriter {
  private part: PartWriter | null = null;
  private pending = '';
  rows = 0;

  constructor(private readonly out: StageWriter) {}

  add(reject: Record<string, unknown>): void {
    this.pending += JSON.stringify(reject) + '\n';
    this.rows++;
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    this.part ??= this.out.rejectPart(partName(0, 'ndjson'));
    const text = this.pending;
    this.pending = '';
    await this.part.write(text);
  }

  async close(): Promise<PartInfo[]> {
    await this.flush();
    return this.part ? [await this.part.close(this.rows)] : [];
  }
}
