import { SourceError } from '../../src/core/errors.js';
import type { HttpResponse } from './client.js';
import type { Pagination } from './config.js';
import { valueAt } from './records.js';

/** One page to request: its URL, and how it is named in logs and errors (nothing secret in it). */
export interface PageRequest {
  url: URL;
  note: string;
}

/** What the pager sees of a page it asked for. */
export interface PageSeen {
  url: URL;
  body: unknown;
  records: readonly unknown[];
  response: HttpResponse;
  /** Shown in errors about this page. */
  display: string;
}

/** A pagination style: the first page, then each next one from what the last one returned (null: done). */
export interface Pager {
  first(): PageRequest;
  next(page: PageSeen): PageRequest | null;
}

function withParams(base: URL, params: Record<string, string | number>): URL {
  const url = new URL(base);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, String(v));
  return url;
}

function short(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}

/** The `rel="next"` target of an RFC 8288 Link header, resolved against the page's URL. */
export function nextLink(header: string | null, current: URL): URL | null {
  if (!header) return null;
  for (const m of header.matchAll(/<([^>]*)>\s*((?:;\s*[^;,]+)*)/g)) {
    const rel = /;\s*rel\s*=\s*"?([^";,]+)"?/i.exec(m[2] ?? '')?.[1];
    if (rel && rel.toLowerCase().split(/\s+/).includes('next')) return new URL(m[1]!, current);
  }
  return null;
}

/** The pager of a job's `pagination`, over `base` (the URL with the job's own query parameters). */
export function pagerFor(pagination: Pagination, base: URL): Pager {
  switch (pagination.type) {
    case 'none':
      return { first: () => ({ url: base, note: '' }), next: () => null };
    case 'page': {
      const p = pagination;
      const at = (n: number): PageRequest => ({
        url: withParams(base, { [p.param]: n, ...(p.size_param && p.size ? { [p.size_param]: p.size } : {}) }),
        note: `${p.param}=${n}`,
      });
      let n = p.start;
      return {
        first: () => at(n),
        next: ({ records }) => (records.length === 0 || (p.size !== undefined && records.length < p.size) ? null : at(++n)),
      };
    }
    case 'offset': {
      const p = pagination;
      const at = (offset: number): PageRequest => ({ url: withParams(base, { [p.param]: offset, [p.limit_param]: p.limit }), note: `${p.param}=${offset}` });
      let offset = 0;
      return {
        first: () => at(offset),
        next: ({ records }) => {
          if (records.length < p.limit) return null;
          offset += records.length;
          return at(offset);
        },
      };
    }
    case 'cursor': {
      const p = pagination;
      let last: string | null = null;
      return {
        first: () => ({ url: base, note: 'first page' }),
        next: ({ body, display }) => {
          const c = valueAt(body, p.next);
          if (c === undefined || c === null || c === '') return null;
          if (typeof c !== 'string' && typeof c !== 'number') {
            throw new SourceError(`${display}: the next cursor at '${p.next}' is ${Array.isArray(c) ? 'an array' : `a ${typeof c}`}; expected a string or a number (pagination.next)`, { details: { where: display, expected: `a string or number at ${p.next}` } });
          }
          const cursor = String(c);
          if (cursor === last) {
            throw new SourceError(`${display}: the API returned the same next cursor twice (${short(cursor)}); stopping rather than reading the same page forever`, { details: { where: display, value: short(cursor), expected: 'a new cursor on every page' } });
          }
          last = cursor;
          return { url: withParams(base, { [p.param]: cursor }), note: `${p.param}=${short(cursor)}` };
        },
      };
    }
    case 'link-header': {
      const seen = new Set<string>();
      return {
        first: () => ({ url: base, note: 'first page' }),
        next: ({ url, response, display }) => {
          seen.add(url.href);
          const next = nextLink(response.headers.get('link'), url);
          if (next === null) return null;
          if (seen.has(next.href)) {
            throw new SourceError(`${display}: the Link header points back to a page already read; stopping rather than reading the same pages forever`, { details: { where: display, expected: 'a rel="next" link to a new page' } });
          }
          return { url: next, note: `next link ${next.origin}${next.pathname}` };
        },
      };
    }
  }
}
