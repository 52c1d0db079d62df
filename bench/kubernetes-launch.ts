/**
 * `npm run bench:launch:kubernetes [-- --launches N]`: the Kubernetes executor's overhead of starting and
 * reaping a no-op stage (create the Job → pod running → log followed → exit read → Job deleted), p50 and
 * p99 over N sequential launches, against the in-repo API stand-in (no API server runs here). The stand-in
 * starts pods as plain processes at once, so this measures the executor's own path (API round trips,
 * polling, log stream) plus one `node -e 0`, shown separately; a real cluster adds scheduling, image and
 * container start-up (seconds). Prints the figures and saves them under bench/results/.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createKubernetesExecutor } from '../src/runtime/kubernetes/index.js';
import type { JobSpec } from '../src/spec/job-schema.js';
import { startKubeStandin } from '../test/support/kube-standin/standin-server.js';

const arg = process.argv.indexOf('--launches');
const LAUNCHES = arg > 0 ? Number(process.argv[arg + 1]) : 50;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;

async function launches(pollIntervalMs: number): Promise<number[]> {
  const k8s = await startKubeStandin({ images: { 'node:bench': { entrypoint: ['node'] } } });
  try {
    const spec = { job: 'bench', tenant: 'default', image: 'node:bench', kubernetes: { ttl: '10m' } } as unknown as JobSpec;
    const executor = createKubernetesExecutor(spec, { kubeConfig: k8s.kubeConfig(), timing: { pollIntervalMs } });
    const times: number[] = [];
    for (let i = 0; i < LAUNCHES; i++) {
      const started = performance.now();
      const handle = await executor.start({ run: `bench-${pollIntervalMs}-${i}`, stage: 'extract', attempt: 1, args: ['-e', 'console.log("{\\"type\\":\\"result\\",\\"ok\\":true}")'], env: {}, resources: { cpus: 0.1, memoryBytes: 256 * 1024 ** 2 }, timeoutMs: null, onLine: () => undefined });
      const exit = await handle.wait();
      if (exit.code !== 0) throw new Error(`launch ${i} exited ${exit.code}: ${JSON.stringify(exit.failure)}`);
      times.push(performance.now() - started);
    }
    return times;
  } finally {
    await k8s.close();
  }
}

const bare: number[] = [];
for (let i = 0; i < LAUNCHES; i++) {
  const t = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  bare.push(performance.now() - t);
}
const results: Record<string, { p50_ms: number; p99_ms: number }> = { 'node -e 0 (the pod process alone)': { p50_ms: pct(bare, 50), p99_ms: pct(bare, 99) } };
for (const poll of [1000, 100]) {
  const times = await launches(poll);
  results[`kubernetes executor, poll ${poll} ms`] = { p50_ms: pct(times, 50), p99_ms: pct(times, 99) };
}
console.log(`Kubernetes executor launch overhead, create → reap of a no-op stage, ${LAUNCHES} launches, against the stand-in:`);
for (const [what, r] of Object.entries(results)) console.log(`  ${what.padEnd(40)} p50 ${r.p50_ms.toFixed(0).padStart(5)} ms   p99 ${r.p99_ms.toFixed(0).padStart(5)} ms`);
mkdirSync(resolve('bench/results'), { recursive: true });
writeFileSync(resolve('bench/results/kubernetes-launch.json'), JSON.stringify({ launches: LAUNCHES, at: new Date().toISOString(), results }, null, 2) + '\n');
