import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { kubernetesObjectProblems } from './object-schemas.js';
import { rfc3339Nano, type LogLine } from './pod-process.js';
import { StandinCluster, type ClusterOptions, type JobObject, type Meta, type SecretObject } from './standin-cluster.js';

/**
 * A Kubernetes API stand-in (no API server can run here): the batch/v1 Jobs, core/v1 Pods, Secrets and
 * pod log endpoints Datamill uses, and metrics.k8s.io pod metrics, with the real API's JSON, status codes
 * and Status errors. Objects are checked against the official schemas as the API server would, and pods
 * really run (see StandinCluster).
 */
export interface KubeStandin {
  url: string;
  cluster: StandinCluster;
  /** Every request, in order (what the client really sent). */
  requests: Array<{ method: string; path: string; query: URLSearchParams; body: unknown }>;
  kubeConfig(namespace?: string): KubeConfig;
  close(): Promise<void>;
}

const TOKEN = 'standin-token';

function status(res: ServerResponse, code: number, reason: string, message: string, details: Record<string, string> = {}): void {
  send(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: code < 300 ? 'Success' : 'Failure', message, reason, details, code });
}

function send(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : null;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export async function startKubeStandin(options: ClusterOptions): Promise<KubeStandin> {
  const cluster = new StandinCluster(options);
  const requests: KubeStandin['requests'] = [];
  const open = new Set<ServerResponse>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://standin');
    const body = req.method === 'POST' || req.method === 'PUT' || req.method === 'DELETE' ? await readBody(req) : null;
    requests.push({ method: req.method!, path: url.pathname, query: url.searchParams, body });
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return status(res, 401, 'Unauthorized', 'Unauthorized');
    const m = /^\/(?:api\/v1|apis\/(batch\/v1|metrics\.k8s\.io\/v1beta1))\/namespaces\/([^/]+)\/(jobs|pods|secrets)(?:\/([^/]+))?(?:\/(log))?$/.exec(url.pathname);
    if (!m) return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    const [, group = '', ns, resource, name, sub] = m as unknown as [string, string | undefined, string, 'jobs' | 'pods' | 'secrets', string | undefined, string | undefined];
    if ((resource === 'jobs') !== (group === 'batch/v1') && group !== 'metrics.k8s.io/v1beta1') return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    if (!cluster.namespaces.has(ns)) return status(res, 404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
    const selector = url.searchParams.get('labelSelector');
    const kindGroup = resource === 'jobs' ? 'batch' : '';

    if (group === 'metrics.k8s.io/v1beta1') {
      const proc = name ? cluster.processes.get(StandinCluster.key(ns, name)) : undefined;
      const usage = proc?.usage();
      if (!usage) return status(res, 404, 'NotFound', `podmetrics.metrics.k8s.io "${name}" not found`);
      return send(res, 200, { kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1', metadata: { name, namespace: ns, creationTimestamp: new Date().toISOString() }, timestamp: new Date().toISOString(), window: '10s', containers: [{ name: 'stage', usage: { cpu: `${usage.nanocores}n`, memory: `${Math.round(usage.memoryBytes / 1024)}Ki` } }] });
    }
    const store = resource === 'jobs' ? cluster.jobs : resource === 'pods' ? cluster.pods : cluster.secrets;
    const listKind = resource === 'jobs' ? 'JobList' : resource === 'pods' ? 'PodList' : 'SecretList';
    const apiVersion = resource === 'jobs' ? 'batch/v1' : 'v1';
    const found = name ? (store as Map<string, { metadata: { name: string } }>).get(StandinCluster.key(ns, name)) : undefined;
    const notFound = () => status(res, 404, 'NotFound', `${resource}${kindGroup ? '.' + kindGroup : ''} "${name}" not found`, { name: name!, group: kindGroup, kind: resource });

    if (sub === 'log') {
      if (resource !== 'pods') return notFound();
      if (!found) return notFound();
      return streamLog(req, res, ns, name!, url.searchParams);
    }
    if (req.method === 'GET' && !name) return send(res, 200, { apiVersion, kind: listKind, metadata: { resourceVersion: '1' }, items: cluster.list(store as Map<string, { metadata: Meta }>, ns, selector) });
    if (req.method === 'GET') return found ? send(res, 200, found) : notFound();
    if (req.method === 'DELETE') {
      if (!found) return notFound();
      const propagation = url.searchParams.get('propagationPolicy') ?? (body as { propagationPolicy?: string } | null)?.propagationPolicy;
      if (resource === 'jobs') cluster.deleteJob(ns, name!, propagation);
      else if (resource === 'pods') cluster.deletePod(found as never);
      else cluster.secrets.delete(StandinCluster.key(ns, name!));
      return send(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: kindGroup, kind: resource } });
    }
    if (req.method === 'POST' && !name && resource !== 'pods') {
      // Like the API server, the endpoint supplies a missing apiVersion/kind.
      const obj = { apiVersion, kind: resource === 'jobs' ? 'Job' : 'Secret', ...(body as object) } as (JobObject | SecretObject) & { metadata: { name?: string; namespace?: string } };
      const problems = kubernetesObjectProblems(obj);
      const objName = obj?.metadata?.name ?? '';
      if (!DNS_LABEL.test(objName) || objName.length > 63) problems.push(`metadata.name: Invalid value: "${objName}": a lowercase RFC 1123 label of at most 63 characters`);
      if (obj?.metadata?.namespace && obj.metadata.namespace !== ns) problems.push('metadata.namespace: does not match the namespace of the request');
      if (problems.length > 0) return status(res, 422, 'Invalid', `${obj?.kind} "${objName}" is invalid: ${problems.join('; ')}`, { name: objName, kind: resource });
      if (store.has(StandinCluster.key(ns, objName))) return status(res, 409, 'AlreadyExists', `${resource}${kindGroup ? '.' + kindGroup : ''} "${objName}" already exists`, { name: objName, kind: resource });
      const meta = cluster.meta(ns, obj.metadata as { name: string });
      if (resource === 'secrets') {
        const s = obj as SecretObject;
        const data = { ...(s.data ?? {}), ...Object.fromEntries(Object.entries(s.stringData ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) };
        const stored: SecretObject = { apiVersion: 'v1', kind: 'Secret', metadata: meta, type: s.type ?? 'Opaque', data };
        cluster.secrets.set(StandinCluster.key(ns, objName), stored);
        return send(res, 201, stored);
      }
      const job = { ...(obj as JobObject), metadata: meta };
      cluster.addJob(job);
      return send(res, 201, job);
    }
    return status(res, 405, 'MethodNotAllowed', `${req.method} is not supported on ${url.pathname}`);
  };

  const streamLog = (req: IncomingMessage, res: ServerResponse, ns: string, pod: string, q: URLSearchParams) => {
    const proc = cluster.processes.get(StandinCluster.key(ns, pod));
    if (!proc) {
      const state = cluster.pods.get(StandinCluster.key(ns, pod))?.status.containerStatuses?.[0]?.state.waiting as { reason?: string } | undefined;
      return status(res, 400, 'BadRequest', `container "stage" in pod "${pod}" is waiting to start: ${state?.reason ?? 'ContainerCreating'}`);
    }
    const since = q.get('sinceTime') ? BigInt(Date.parse(q.get('sinceTime')!)) * 1_000_000n : -1n;
    const stamps = q.get('timestamps') === 'true';
    const format = (l: LogLine) => `${stamps ? rfc3339Nano(l.ns) + ' ' : ''}${l.text}\n`;
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    for (const l of proc.lines) if (l.ns >= since) res.write(format(l));
    if (q.get('follow') !== 'true' || proc.exit) return res.end();
    open.add(res);
    const unsubscribe = proc.subscribe((l) => (l ? res.write(format(l)) : res.end()));
    if (options.cutLogFollowAfterMs) setTimeout(() => res.end(), options.cutLogFollowAfterMs).unref();
    res.once('close', () => {
      unsubscribe();
      open.delete(res);
    });
    req.once('close', () => unsubscribe());
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => status(res, 500, 'InternalError', err.message));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url, cluster, requests,
    kubeConfig(namespace = 'datamill') {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'standin', server: url, skipTLSVerify: true }],
        users: [{ name: 'standin', token: TOKEN }],
        contexts: [{ name: 'standin', cluster: 'standin', user: 'standin', namespace }],
        currentContext: 'standin',
      });
      return kc;
    },
    async close() {
      for (const r of open) r.destroy();
      await cluster.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
