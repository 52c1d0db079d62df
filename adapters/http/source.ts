import { partName } from '../../src/buffer/manifest.js';
import type { StageWriter } from '../../src/buffer/buffer.js';
import type { CursorRange, ExtractResult, Source } from '../../src/core/connector.js';
import { SourceError } from '../../src/core/errors.js';
import type { StageContext } from '../../src/core/stage-context.js';
import { cursorName } from '../../src/runtime/incremental-cursor.js';
import { HttpClient, type HttpRequest } from './client.js';
import type { HttpSourceConfig } from './config.js';
import { pagerFor, type PageRequest } from './pagination.js';
import { compareCursor, pageRecords, valueAt } from './records.js';

/**
 * Reads a JSON API page by page into one NDJSON part, a page at a time: memory holds one page, never
 * the whole extract. Secrets (`${env:…}` in url, params, headers, body) are resolved here, just before
 * the first request, and appear nowhere else: logs and errors show the URL as the job file wrote it.
 */
export function createHttpSource(config: HttpSourceConfig): Source {
  return { extract: (ctx, out, range) => extract(config, ctx, out, range) };
}

/** The URL and query parameters as written in the job (references unresolved): safe to show. */
function displayBase(config: HttpSourceConfig): string {
  const params = Object.entries(config.params ?? {}).map(([k, v]) => `${k}=${String(v)}`);
  return params.length === 0 ? config.url : `${config.url}${config.url.includes('?') ? '&' : '?'}${params.join('&')}`;
}

/** Resolves every string of a JSON body that holds a reference. */
function resolveBody(value: unknown, secret: (v: string) => string): unknown {
  if (typeof value === 'string') return secret(value);
  if (Array.isArray(value)) return value.map((v) => resolveBody(v, secret));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveBody(v, secret)]));
  return value;
}

function baseUrl(config: HttpSourceConfig, ctx: StageContext, mark: string | null): URL {
  let url: URL;
  try {
    url = new URL(ctx.secret(config.url));
  } catch {
    throw new SourceError(`extract.url is not a valid URL once its references are resolved: ${config.url}`, { details: { where: 'extract.url', value: config.url, expected: 'http(s)://host/path' } });
  }
  for (const [k, v] of Object.entries(config.params ?? {})) url.searchParams.set(k, typeof v === 'string' ? ctx.secret(v) : String(v));
  if (config.incremental?.param !== undefined && mark !== null) url.searchParams.set(config.incremental.param, mark);
  return url;
}

async function extract(config: HttpSourceConfig, ctx: StageContext, out: StageWriter, range: CursorRange | undefined): Promise<ExtractResult> {
  const started = Date.now();
  const inc = config.incremental;
  const from = inc ? (range?.from ?? (inc.start === undefined ? null : String(inc.start))) : null;
  const fixedTo = range?.to ?? null;
  let to: string | number | null = fixedTo ?? from;
  const shown = displayBase(config);
  const base = baseUrl(config, ctx, from);
  const headers: Record<string, string> = { accept: 'application/json', ...Object.fromEntries(Object.entries(config.headers ?? {}).map(([k, v]) => [k, ctx.secret(v)])) };
  const body = config.body === undefined ? undefined : JSON.stringify(resolveBody(config.body, (v) => ctx.secret(v)));
  if (body !== undefined) headers['content-type'] ??= 'application/json';

  const client = new HttpClient(config, ctx);
  const pager = pagerFor(config.pagination, base);
  const maxPages = 'max_pages' in config.pagination ? config.pagination.max_pages : undefined;
  const part = out.part(partName(0, 'ndjson'), { origin: shown });
  let rows = 0;
  let skipped = 0;
  let pages = 0;
  for (let page: PageRequest | null = pager.first(); page !== null; ) {
    pages++;
    const display = `${config.method} ${shown} (page ${pages}${page.note ? `: ${page.note}` : ''})`;
    const req: HttpRequest = { url: page.url, method: config.method, headers, display, ...(body === undefined ? {} : { body }) };
    const response = await client.send(req);
    const { body: doc, records } = pageRecords(response, config.records, display);
    let text = '';
    for (const record of records) {
      if (inc) {
        const v = valueAt(record, inc.field);
        if (typeof v === 'string' || typeof v === 'number') {
          // Only what is above the mark (and, replaying, not above the range recorded then).
          if ((from !== null && compareCursor(v, from) <= 0) || (fixedTo !== null && compareCursor(v, fixedTo) > 0)) {
            skipped++;
            continue;
          }
          if (fixedTo === null && (to === null || compareCursor(v, to) > 0)) to = v;
        }
      }
      text += JSON.stringify(record) + '\n';
      rows++;
    }
    if (text.length > 0) await part.write(text);
    ctx.progress(records.length);
    ctx.log.debug(`${display}: ${records.length} records`, { page: pages, records: records.length });
    if (maxPages !== undefined && pages >= maxPages) {
      ctx.log.info(`stopped after pagination.max_pages (${maxPages}) pages`, { pages });
      break;
    }
    page = pager.next({ url: page.url, body: doc, records, response, display });
  }
  const info = await part.close(rows);
  const ms = Date.now() - started;
  const figures: Record<string, number | string> = { pages, ...client.figures, ms };
  let cursor: ExtractResult['cursor'];
  if (inc) {
    cursor = { name: cursorName({ from: 'http', incremental: inc })!, from, to: to === null ? null : String(to) };
    Object.assign(figures, { skipped_at_or_below_mark: skipped, cursor_from: cursor.from ?? '(start)', cursor_to: cursor.to ?? '(none)' });
  }
  ctx.log.info(`extracted ${rows} records from ${shown} in ${pages} page${pages === 1 ? '' : 's'} (${client.figures.requests} requests) in ${ms} ms`, { rows, ...figures });
  return { format: 'ndjson', parts: [info], figures, ...(cursor ? { cursor } : {}) };
}
