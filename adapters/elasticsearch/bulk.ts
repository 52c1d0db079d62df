import { setTimeout as sleep } from 'node:timers/promises';
import { LoadError } from '../../src/core/errors.js';
import { faultPoint } from '../../src/core/faults.js';
import type { StageContext } from '../../src/core/stage-context.js';
import { esFailure, responseOf, type Connection } from './client.js';
import type { BulkOptions } from './config.js';
import type { BulkItem } from './documents.js';

/** What Elasticsearch says about one operation of a _bulk request. */
export interface ItemResult {
  _id?: string;
  _index?: string;
  status: number;
  result?: string;
  error?: { type?: string; reason?: string; caused_by?: unknown } | string;
}

interface BulkResponse {
  errors: boolean;
  items: Array<Record<string, ItemResult>>;
}

/** Only what the sink reads of each item: answers shrink to a third, less to receive and parse. */
const RESPONSE_FIELDS = 'errors,items.*.status,items.*.result,items.*.error';

export interface BulkFigures {
  requests: number;
  created: number;
  updated: number;
  noop: number;
  rejected: number;
  /** Requests and documents sent again after a 429. */
  throttled: number;
}

/** Called for each document Elasticsearch refused for good (anything but 429 and 5xx). */
export type OnRejected = (item: BulkItem, result: ItemResult) => Promise<void>;

/**
 * Sends documents in _bulk requests of about `bytes` each, `concurrency` at a time. A request answered
 * 429, and the documents of an answer refused with 429 (es_rejected_execution_exception: the write
 * queue is full), are sent again after an exponential backoff with jitter; nothing else is retried here.
 * A document refused for another 4xx reason (a mapping conflict…) goes to `onRejected`; a document
 * refused with a 5xx fails the load as retryable once its request is done. Memory is bounded by
 * `concurrency + 1` requests' bodies.
 */
export class BulkSender {
  readonly figures: BulkFigures = { requests: 0, created: 0, updated: 0, noop: 0, rejected: 0, throttled: 0 };
  private batch: BulkItem[] = [];
  private batchBytes = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown = null;

  constructor(
    private readonly conn: Connection,
    private readonly index: string,
    private readonly options: BulkOptions,
    private readonly ctx: Pick<StageContext, 'signal' | 'progress' | 'log' | 'stage' | 'attempt'>,
    private readonly onRejected: OnRejected,
  ) {}

  /** Adds one document; resolves once it is queued (waiting while every request slot is busy). */
  async add(item: BulkItem): Promise<void> {
    this.batch.push(item);
    this.batchBytes += item.text.length;
    if (this.batchBytes >= this.options.bytes) await this.dispatch();
  }

  /** Sends what is left and waits for every request; throws the first failure. */
  async finish(): Promise<BulkFigures> {
    if (this.batch.length > 0) await this.dispatch();
    await Promise.all(this.inFlight);
    if (this.failure !== null) throw this.failure;
    return this.figures;
  }

  private async dispatch(): Promise<void> {
    if (this.failure !== null) throw this.failure;
    const items = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    while (this.inFlight.size >= this.options.concurrency) await Promise.race(this.inFlight);
    if (this.failure !== null) throw this.failure;
    const sent: Promise<void> = this.send(items).then(
      () => void this.inFlight.delete(sent),
      (err: unknown) => {
        this.inFlight.delete(sent);
        this.failure ??= err;
      },
    );
    this.inFlight.add(sent);
  }

  private async send(first: BulkItem[]): Promise<void> {
    let items = first;
    for (let attempt = 0; ; attempt++) {
      if (this.failure !== null) return;
      this.ctx.signal.throwIfAborted();
      let response: BulkResponse;
      this.figures.requests++;
      try {
        response = (await this.conn.client.bulk({ index: this.index, operations: items.map((i) => i.text).join(''), filter_path: RESPONSE_FIELDS } as never, { signal: this.ctx.signal })) as unknown as BulkResponse;
      } catch (err) {
        const r = responseOf(err);
        if (r?.status === 429 && attempt < this.options.retries) {
          this.figures.throttled++;
          await this.backoff(attempt, `_bulk request of ${items.length} documents answered 429 (${r.type ?? 'too many requests'})`, r.retryAfterMs);
          continue;
        }
        if (r?.status === 429) throw this.gaveUp(items.length, err);
        throw esFailure(err, `_bulk into ${this.index}`, this.conn);
      }
      const again = await this.results(items, response);
      if (again.length === 0) return;
      this.figures.throttled += again.length;
      if (attempt >= this.options.retries) throw this.gaveUp(again.length, null);
      await this.backoff(attempt, `${again.length} of ${items.length} documents refused with 429 (es_rejected_execution_exception)`);
      items = again;
    }
  }

  /** Counts an answer's items, hands refused ones to onRejected, and returns those to send again (429). */
  private async results(items: BulkItem[], response: BulkResponse): Promise<BulkItem[]> {
    if (!Array.isArray(response?.items) || response.items.length !== items.length) {
      throw new LoadError(`_bulk into ${this.index} on ${this.conn.server}: the answer lists ${response?.items?.length ?? 'no'} items for ${items.length} documents sent`, { retryable: true, details: { where: this.conn.server } });
    }
    const again: BulkItem[] = [];
    let serverError: { item: BulkItem; result: ItemResult } | null = null;
    let done = 0;
    for (let i = 0; i < items.length; i++) {
      const entry = response.items[i]!;
      const result = entry.index ?? entry.update ?? entry.create ?? Object.values(entry)[0]!;
      if (result.status < 300) {
        if (result.result === 'created') this.figures.created++;
        else if (result.result === 'noop') this.figures.noop++;
        else this.figures.updated++;
        done++;
      } else if (result.status === 429) again.push(items[i]!);
      else if (result.status >= 500) serverError ??= { item: items[i]!, result };
      else {
        this.figures.rejected++;
        done++;
        await this.onRejected(items[i]!, result);
      }
    }
    this.ctx.progress(done);
    faultPoint(this.ctx, 'after-bulk');
    if (serverError) {
      const e = serverError.result.error;
      const why = typeof e === 'string' ? e : [e?.type, e?.reason].filter(Boolean).join(': ');
      throw new LoadError(this.conn.scrub(`_bulk into ${this.index} on ${this.conn.server}: document ${serverError.item.id} (input row ${serverError.item.row}) failed with HTTP ${serverError.result.status} ${why}; the cluster is unwell, the load is retried (documents keep their _id, so nothing is duplicated)`), {
        retryable: true,
        details: { where: this.conn.server, status: serverError.result.status },
      });
    }
    return again;
  }

  private async backoff(attempt: number, why: string, retryAfterMs = 0): Promise<void> {
    const cap = Math.min(this.options.maxBackoffMs, this.options.backoffMs * 2 ** attempt);
    // Half fixed, half random: concurrent requests throttled together do not come back together.
    const wait = Math.max(retryAfterMs, Math.round(cap / 2 + (Math.random() * cap) / 2));
    this.ctx.log.warn(`${why}; sending again in ${wait} ms (retry ${attempt + 1} of ${this.options.retries})`, { index: this.index, retry: attempt + 1, wait_ms: wait });
    await sleep(wait, undefined, { signal: this.ctx.signal });
  }

  private gaveUp(documents: number, cause: unknown): LoadError {
    return new LoadError(`Elasticsearch at ${this.conn.server} kept refusing ${documents} documents with 429 (too many requests) after ${this.options.retries} retries; the cluster is overloaded: lower load.bulk.concurrency or load.bulk.bytes, or raise load.bulk.retries`, {
      retryable: true,
      details: { where: this.conn.server, status: 429 },
      ...(cause ? { cause } : {}),
    });
  }
}
