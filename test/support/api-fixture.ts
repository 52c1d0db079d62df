import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startApi, type TenantTokens } from '../../src/api/server.js';
import type { RunOptions } from '../../src/runtime/run-job.js';
import { SqliteStateStore } from '../../src/state/sqlite-store.js';
import type { StateStore } from '../../src/state/store.js';
import { workspace } from './cli.js';
import { FolderServeControl } from './serve-control.js';

/** A small job writing a CSV; `fail` points extract at a missing file so the run fails at once. */
export function ordersJob(o: { job: string; tenant: string; buffer: string; fail?: boolean; extra?: string }): string {
  return `job: ${o.job}
tenant: ${o.tenant}
description: orders of ${o.tenant}
buffer: ${o.buffer}
retries: { attempts: 1, backoff: 1s }
${o.extra ?? ''}
extract: { from: csv, path: ${o.fail ? 'missing.csv' : 'orders.csv'} }
adapt:
  fields:
    id: { type: integer, required: true }
    amount: integer
  max_reject_ratio: 0.5
load: { to: file, path: out/${o.job}.csv }
`;
}

export interface ApiFixture {
  url: string;
  dir: string;
  home: string;
  store: StateStore;
  control: FolderServeControl;
  notices: string[];
  close(): Promise<void>;
}

/** Job files in a temp folder, a real SQLite store, the folder control and a real API server on a free port. */
export async function startApiFixture(jobs: Array<{ job: string; tenant: string; fail?: boolean; extra?: string }>, o: { tokens?: TenantTokens | null; store?: StateStore; runEnd?: Pick<RunOptions, 'onRunEnd'> } = {}): Promise<ApiFixture> {
  const ws = workspace();
  const jobsDir = join(ws.dir, 'jobs');
  mkdirSync(jobsDir);
  ws.write('jobs/orders.csv', 'id,amount\n1,10\n2,20\n3,oops\n');
  const buffer = pathToFileURL(join(ws.dir, 'buffer')).href;
  for (const j of jobs) ws.write(`jobs/${j.job}.yaml`, ordersJob({ ...j, buffer }));
  const store = o.store ?? new SqliteStateStore(join(ws.home, 'state.db'));
  const control = new FolderServeControl(jobsDir, store, ws.home, o.runEnd ?? {});
  const notices: string[] = [];
  const api = await startApi({ control, store, home: ws.home, port: 0, tokens: o.tokens ?? null, notice: (m) => notices.push(m) });
  return {
    url: api.url, dir: ws.dir, home: ws.home, store, control, notices,
    async close() {
      await api.close();
      await control.idle();
      await store.close();
    },
  };
}

export interface Reply<T = Record<string, unknown>> {
  status: number;
  body: T;
}

export async function call<T = Record<string, any>>(url: string, path: string, o: { token?: string; method?: string; body?: unknown; raw?: string } = {}): Promise<Reply<T>> {
  const res = await fetch(url + path, {
    method: o.method ?? (o.body !== undefined || o.raw !== undefined ? 'POST' : 'GET'),
    headers: { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), 'content-type': 'application/json' },
    ...(o.raw !== undefined ? { body: o.raw } : o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (res.headers.get('content-type')?.includes('ndjson') ? text : JSON.parse(text)) as T };
}
