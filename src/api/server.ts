import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LOG_LEVELS, type LogLevel } from '../core/stage-context.js';
import { SpecError } from '../core/errors.js';
import { followRunLog } from '../log/follow-run-log.js';
import type { ExecRequest } from '../exec/exec-container.js';
import type { ServeControl } from '../serve/control.js';
import { redact } from '../spec/secrets.js';
import type { RunRecord, RunStatus, StateStore } from '../state/store.js';
import { ApiError, badRequest, notFound, readJsonBody, sendError, sendJson } from './responses.js';
import type { TenantTokens, TokenScope } from './tenant-tokens.js';

export { loadTenantTokens, type TenantTokens, type TokenScope } from './tenant-tokens.js';

export interface ApiOptions {
  control: ServeControl;
  store: StateStore;
  /** The Datamill home: run logs are read from here. */
  home: string;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** null: no authentication, so the API listens on 127.0.0.1 only. */
  tokens: TenantTokens | null;
  /** Where notices such as "listening on loopback only" go (default: stderr). */
  notice?(message: string): void;
}

export interface ApiServer {
  url: string;
  close(): Promise<void>;
}

const ADMIN: TokenScope = { admin: true, tenant: null, name: 'local' };
/** An unauthenticated health probe: no tenant, sees nothing but "ok". */
const PROBE: TokenScope = { admin: false, tenant: '', name: 'probe' };
const RUN_STATUSES: RunStatus[] = ['queued', 'running', 'succeeded', 'failed', 'interrupted'];
const ENDED = new Set<RunStatus>(['succeeded', 'failed', 'interrupted']);
const MAX_LIMIT = 1000;

interface Request {
  req: IncomingMessage;
  res: ServerResponse;
  scope: TokenScope;
  url: URL;
  params: string[];
}

type Handler = (r: Request, o: ApiOptions) => Promise<void>;

const visible = (scope: TokenScope, tenant: string) => scope.admin || scope.tenant === tenant;

/** A job this token may see, or 404: another tenant's job answers exactly like a missing one, so names do not leak. */
async function scopedJob(r: Request, o: ApiOptions) {
  const name = r.params[0]!;
  const job = (await o.control.listJobs()).find((j) => j.job === name);
  if (!job || !visible(r.scope, job.tenant)) throw notFound(`job '${name}'`);
  return job;
}

async function scopedRun(r: Request, o: ApiOptions): Promise<RunRecord> {
  const id = r.params[0]!;
  let run: RunRecord | null;
  try {
    run = await o.store.findRun(id);
  } catch (err) {
    // The ambiguity message lists the matching ids, which may be other tenants' runs.
    if (err instanceof SpecError && !r.scope.admin) throw badRequest(`'${id}' matches several runs; give more of the id`);
    throw err;
  }
  if (!run || !visible(r.scope, run.tenant)) throw notFound(`run '${id}'`);
  return run;
}

function limitOf(text: string | null): number {
  if (text === null) return 50;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) throw badRequest(`limit=${text}: expected a whole number from 1 to ${MAX_LIMIT}`);
  return n;
}

function paramsOf(body: Record<string, unknown>): Record<string, string> {
  const unknown = Object.keys(body).filter((k) => k !== 'params');
  if (unknown.length > 0) throw badRequest(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} in the request body (accepted: params)`);
  const params = body.params ?? {};
  if (params === null || typeof params !== 'object' || Array.isArray(params)) throw badRequest('params must be an object of strings, e.g. {"params": {"day": "2026-01-01"}}');
  for (const [k, v] of Object.entries(params)) if (typeof v !== 'string') throw badRequest(`params.${k}: expected a string, got ${JSON.stringify(v)}`);
  return params as Record<string, string>;
}

const ROUTES: Array<[string, RegExp, Handler]> = [
  ['GET', /^\/api\/health$/, async (r, o) => sendJson(r.res, 200, { status: 'ok', auth: o.tokens ? 'bearer' : 'none (loopback only)', ...(r.scope === PROBE ? {} : { scope: r.scope.admin ? 'admin' : `tenant ${r.scope.tenant}` }) })],
  [
    'GET',
    /^\/api\/jobs$/,
    async (r, o) => {
      const jobs = (await o.control.listJobs()).filter((j) => visible(r.scope, j.tenant));
      // A broken file has no tenant we can trust (it did not parse), so only admins see them.
      sendJson(r.res, 200, { jobs, brokenFiles: r.scope.admin ? o.control.brokenFiles() : [] });
    },
  ],
  ['GET', /^\/api\/jobs\/([^/]+)$/, async (r, o) => sendJson(r.res, 200, { job: await scopedJob(r, o) })],
  [
    'POST',
    /^\/api\/jobs\/([^/]+)\/trigger$/,
    async (r, o) => {
      const params = paramsOf(await readJsonBody(r.req));
      const job = await scopedJob(r, o);
      const run = await o.control.trigger(job.job, params);
      sendJson(r.res, 201, { run });
    },
  ],
  ...(['pause', 'resume'] as const).map((verb): [string, RegExp, Handler] => [
    'POST',
    new RegExp(`^/api/jobs/([^/]+)/${verb}$`),
    async (r, o) => {
      const job = await scopedJob(r, o);
      await o.control[verb](job.job);
      sendJson(r.res, 200, { job: (await o.control.listJobs()).find((j) => j.job === job.job) ?? job });
    },
  ]),
  [
    'GET',
    /^\/api\/runs$/,
    async (r, o) => {
      const q = r.url.searchParams;
      const status = q.get('status');
      if (status !== null && !RUN_STATUSES.includes(status as RunStatus)) throw badRequest(`status=${status}: expected one of ${RUN_STATUSES.join(', ')}`);
      const runs = await o.store.listRuns({ ...(q.get('job') ? { job: q.get('job')! } : {}), ...(status ? { status: status as RunStatus } : {}), ...(r.scope.tenant ? { tenant: r.scope.tenant } : {}), limit: limitOf(q.get('limit')) });
      sendJson(r.res, 200, { runs });
    },
  ],
  [
    'GET',
    /^\/api\/runs\/([^/]+)$/,
    async (r, o) => {
      const run = await scopedRun(r, o);
      sendJson(r.res, 200, { run, attempts: await o.store.listAttempts(run.id) });
    },
  ],
  ['GET', /^\/api\/runs\/([^/]+)\/logs$/, streamLogs],
  [
    'GET',
    /^\/api\/pool$/,
    async (r, o) => {
      const view = o.control.pool();
      // A tenant sees the capacity and its own tasks; other tenants' jobs and runs are not its business.
      const mine = <T extends { tenant: string }>(list: T[]) => list.filter((t) => visible(r.scope, t.tenant));
      sendJson(r.res, 200, { pool: r.scope.admin ? view : { ...view, running: mine(view.running), waiting: mine(view.waiting) } });
    },
  ],
  [
    'POST',
    /^\/api\/exec$/,
    async (r, o) => {
      const body = await readJsonBody(r.req);
      if (!r.scope.admin && body.tenant !== undefined && body.tenant !== r.scope.tenant) throw new ApiError(403, 'Forbidden', `this token belongs to tenant ${r.scope.tenant}: it cannot run containers for tenant ${String(body.tenant)}`);
      const run = await o.control.exec({ ...(body as ExecRequest), ...(r.scope.admin ? {} : { tenant: r.scope.tenant! }) });
      sendJson(r.res, 201, { run });
    },
  ],
];

/** NDJSON, one log entry a line; with follow=1 the response stays open until the run ends. */
async function streamLogs(r: Request, o: ApiOptions): Promise<void> {
  const run = await scopedRun(r, o);
  const q = r.url.searchParams;
  const level = q.get('level');
  if (level !== null && !(level in LOG_LEVELS)) throw badRequest(`level=${level}: expected one of ${Object.keys(LOG_LEVELS).join(', ')}`);
  const stage = q.get('stage');
  const abort = new AbortController();
  r.res.once('close', () => abort.abort());
  const follow = q.get('follow') === '1' || q.get('follow') === 'true';
  const entries = followRunLog(o.home, run.id, {
    ...(stage ? { stage } : {}),
    ...(level ? { level: level as LogLevel } : {}),
    ...(follow ? { follow: { signal: abort.signal, ended: async () => ENDED.has((await o.store.getRun(run.id))?.status ?? 'failed') } } : {}),
  });
  r.res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-run-id': run.id });
  for await (const entry of entries) {
    if (abort.signal.aborted) break;
    if (!r.res.write(redact(JSON.stringify(entry)) + '\n')) await new Promise((done) => r.res.once('drain', done).once('close', done));
  }
  r.res.end();
}

function authenticate(req: IncomingMessage, tokens: TenantTokens | null): TokenScope {
  if (!tokens) return ADMIN;
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw new ApiError(401, 'Unauthorized', 'missing bearer token: send "Authorization: Bearer <token>"');
  const scope = tokens.scopeOf(m[1]!);
  if (!scope) throw new ApiError(401, 'Unauthorized', 'unknown token');
  return scope;
}

async function handle(req: IncomingMessage, res: ServerResponse, o: ApiOptions): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://api.invalid');
  const matches = ROUTES.map(([method, re, handler]) => ({ method, m: re.exec(url.pathname), handler })).filter((x) => x.m);
  if (matches.length === 0) throw notFound(`route ${url.pathname}`);
  const route = matches.find((x) => x.method === req.method);
  if (!route) {
    res.setHeader('allow', matches.map((x) => x.method).join(', '));
    throw new ApiError(405, 'MethodNotAllowed', `${req.method} is not allowed on ${url.pathname} (allowed: ${matches.map((x) => x.method).join(', ')})`);
  }
  // Health answers without a token, so load balancers can probe it; everything else needs one.
  const scope = url.pathname === '/api/health' && !req.headers.authorization ? PROBE : authenticate(req, o.tokens);
  const params = route.m!.slice(1).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      throw badRequest(`bad percent-encoding in ${url.pathname}`);
    }
  });
  await route.handler({ req, res, scope, url, params }, o);
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * The HTTP API of `datamill serve` (docs/api.md): JSON over node:http (a dozen routes do not need a
 * framework). Bearer tokens scope every request to a tenant; without a tokens file it binds loopback only.
 */
export async function startApi(options: ApiOptions): Promise<ApiServer> {
  const notice = options.notice ?? ((m: string) => process.stderr.write(`datamill api: ${m}\n`));
  let host = options.host ?? (options.tokens ? '0.0.0.0' : '127.0.0.1');
  if (!options.tokens && !LOOPBACK.has(host)) {
    notice(`no tokens file: binding 127.0.0.1 instead of ${host} (pass --tokens FILE to accept other hosts)`);
    host = '127.0.0.1';
  } else if (!options.tokens) notice('no tokens file: the API is unauthenticated and listens on 127.0.0.1 only');
  const server = createServer((req, res) => {
    handle(req, res, options).catch((err: unknown) => sendError(res, err));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address === '0.0.0.0' ? '127.0.0.1' : address.address;
  return {
    url: `http://${shown}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Followed log streams stay open until their run ends; closing the server must not wait for them.
        server.closeAllConnections();
      }),
  };
}
