import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { TaskExit } from '../executor.js';
import { apiStatus } from './kube-client.js';
import { STAGE_CONTAINER } from './stage-job-manifest.js';

const SUFFIX: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** A Kubernetes quantity ("250m", "123456n", "64Mi", "1.5Gi") as a number; null when it is not one. */
export function parseQuantity(q: string): number | null {
  const m = /^([0-9.]+)(n|u|m|k|K|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(q.trim());
  if (!m || Number.isNaN(Number(m[1]))) return null;
  return Number(m[1]) * SUFFIX[m[2] ?? '']!;
}

interface PodMetrics {
  containers?: Array<{ name: string; usage?: { cpu?: string; memory?: string } }>;
}

/**
 * Samples a stage pod's CPU and memory from the metrics API (metrics.k8s.io, what `kubectl top` reads; pod
 * status itself carries no usage). Memory is the peak working set seen; CPU seconds integrate the sampled
 * rate over time, so short stages may show none. Without a metrics server both stay null.
 */
export class PodUsageSampler {
  private readonly api: CustomObjectsApi;
  private timer: NodeJS.Timeout | null = null;
  private lastAt = 0;
  private unavailable = false;
  readonly usage: TaskExit['usage'] = { peakRssBytes: null, cpuSeconds: null };

  constructor(config: KubeConfig, private readonly namespace: string, private readonly pod: string, private readonly intervalMs: number) {
    this.api = config.makeApiClient(CustomObjectsApi);
  }

  start(): void {
    if (this.timer || this.unavailable) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async sample(): Promise<void> {
    try {
      const m = (await this.api.getNamespacedCustomObject({ group: 'metrics.k8s.io', version: 'v1beta1', namespace: this.namespace, plural: 'pods', name: this.pod })) as PodMetrics;
      const usage = m.containers?.find((c) => c.name === STAGE_CONTAINER)?.usage;
      const memory = usage?.memory ? parseQuantity(usage.memory) : null;
      const cpu = usage?.cpu ? parseQuantity(usage.cpu) : null;
      const now = Date.now();
      if (memory !== null) this.usage.peakRssBytes = Math.max(this.usage.peakRssBytes ?? 0, Math.round(memory));
      if (cpu !== null) this.usage.cpuSeconds = (this.usage.cpuSeconds ?? 0) + (this.lastAt ? (cpu * (now - this.lastAt)) / 1000 : 0);
      this.lastAt = now;
    } catch (err) {
      // 404 before the first scrape of a new pod is normal; a missing metrics API (404 on the group) is not
      // distinguishable from it cheaply, so only 403 (not allowed) stops sampling for good.
      if (apiStatus(err) === 403) {
        this.unavailable = true;
        this.stop();
      }
    }
  }
}
