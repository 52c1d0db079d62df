import { readFileSync } from 'node:fs';
import { BatchV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { DatamillError } from '../../core/errors.js';

/** The API clients one executor uses, built from one KubeConfig. */
export interface KubeClients {
  config: KubeConfig;
  batch: BatchV1Api;
  core: CoreV1Api;
}

const IN_CLUSTER_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** KUBECONFIG, then ~/.kube/config, then the in-cluster service account (what kubectl does). */
export function kubeClients(config?: KubeConfig): KubeClients {
  const kc = config ?? new KubeConfig();
  if (!config) kc.loadFromDefault();
  return { config: kc, batch: kc.makeApiClient(BatchV1Api), core: kc.makeApiClient(CoreV1Api) };
}

/** The namespace the job asked for, else the kubeconfig context's, else the pod's own, else "default". */
export function defaultNamespace(kc: KubeConfig): string {
  const context = kc.getContextObject(kc.getCurrentContext());
  if (context?.namespace) return context.namespace;
  try {
    return readFileSync(IN_CLUSTER_NAMESPACE, 'utf8').trim() || 'default';
  } catch {
    return 'default';
  }
}

/** The HTTP status of a failed API call (client-node's ApiException), or null for a network failure. */
export function apiStatus(err: unknown): number | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : null;
}

/** Kubernetes answered with an error, or could not be reached. */
export class KubernetesError extends DatamillError {}

/**
 * A failed API call as a classified error: unreachable, throttled (429) or failing (5xx) is worth a retry;
 * refused (403 RBAC, 422 invalid object, 404 namespace) is not. Messages carry the API's own reason.
 */
export function kubernetesError(action: string, err: unknown): KubernetesError {
  const status = apiStatus(err);
  const body = (err as { body?: unknown }).body;
  let reason = '';
  if (typeof body === 'string') {
    try {
      reason = String((JSON.parse(body) as { message?: string }).message ?? '');
    } catch {
      reason = body.slice(0, 300);
    }
  } else if (body && typeof body === 'object') reason = String((body as { message?: string }).message ?? '');
  const retryable = status === null || status === 429 || status >= 500;
  const what = status === null ? `could not reach the Kubernetes API (${(err as Error).message})` : `Kubernetes answered ${status}${reason ? `: ${reason}` : ''}`;
  return new KubernetesError(`${action}: ${what}`, { retryable, cause: err, details: { status } });
}
