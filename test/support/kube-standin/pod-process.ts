import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { createInterface } from 'node:readline';

/** One log line as the kubelet keeps it: when it was written, and the text. */
export interface LogLine {
  ns: bigint;
  text: string;
}

/** RFC3339Nano as the API server writes it (trailing zeros of the fraction trimmed). */
export function rfc3339Nano(ns: bigint): string {
  const seconds = new Date(Number(ns / 1_000_000_000n) * 1000).toISOString().replace(/\.\d+Z$/, '');
  const frac = String(ns % 1_000_000_000n).padStart(9, '0').replace(/0+$/, '');
  return `${seconds}${frac ? '.' + frac : ''}Z`;
}

let lastNs = 0n;
/** Wall clock in nanoseconds, strictly increasing so every log line has its own timestamp order. */
export function nowNs(): bigint {
  const ns = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  lastNs = ns > lastNs ? ns : lastNs + 1n;
  return lastNs;
}

function rssBytes(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

function cpuTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
}

/**
 * A container's process: the stage really runs, as a child process. Its stdout and stderr are kept as the
 * kubelet keeps them (one stream of timestamped lines), and a memory limit is enforced the way the cgroup
 * OOM killer does it: SIGKILL once RSS passes the limit, reported as OOMKilled with exit code 137.
 */
export class ContainerProcess {
  readonly lines: LogLine[] = [];
  private readonly listeners = new Set<(line: LogLine | null) => void>();
  private child: ChildProcess;
  private monitor: NodeJS.Timeout;
  private lastCpu: { ticks: number; at: number } | null = null;
  oomKilled = false;
  exit: { code: number; at: Date } | null = null;
  readonly startedAt = new Date();
  readonly exited: Promise<void>;

  constructor(command: string[], env: Record<string, string>, cwd: string, memoryLimit: number | null) {
    this.child = spawn(command[0]!, command.slice(1), { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (text: string) => {
      const line = { ns: nowNs(), text };
      this.lines.push(line);
      for (const l of this.listeners) l(line);
    };
    const out = createInterface({ input: this.child.stdout! });
    const err = createInterface({ input: this.child.stderr! });
    out.on('line', keep);
    err.on('line', keep);
    const closed = Promise.all([new Promise((r) => out.once('close', r)), new Promise((r) => err.once('close', r))]);
    this.monitor = setInterval(() => {
      const rss = this.child.pid ? rssBytes(this.child.pid) : null;
      if (memoryLimit !== null && rss !== null && rss > memoryLimit && !this.oomKilled) {
        this.oomKilled = true;
        this.child.kill('SIGKILL');
      }
    }, 20);
    this.exited = new Promise<void>((resolve) => {
      this.child.once('error', (e) => keep(`exec failed: ${e.message}`));
      this.child.once('close', async (code, signal) => {
        clearInterval(this.monitor);
        await closed;
        const signo = signal ? constants.signals[signal] : 0;
        this.exit = { code: signal ? 128 + signo : code ?? 128, at: new Date() };
        for (const l of this.listeners) l(null);
        resolve();
      });
    });
  }

  /** Calls back with every new line, and with null once the container has exited. */
  subscribe(fn: (line: LogLine | null) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  signal(sig: NodeJS.Signals): void {
    if (!this.exit) this.child.kill(sig);
  }

  /** The metrics-server view: working set and CPU rate since the last scrape (nanocores). */
  usage(): { memoryBytes: number; nanocores: number } | null {
    const pid = this.child.pid;
    if (!pid || this.exit) return null;
    const rss = rssBytes(pid);
    const ticks = cpuTicks(pid);
    if (rss === null || ticks === null) return null;
    const now = Date.now();
    const prev = this.lastCpu ?? { ticks: 0, at: this.startedAt.getTime() };
    this.lastCpu = { ticks, at: now };
    const nanocores = now > prev.at ? Math.round((((ticks - prev.ticks) / 100) * 1e9) / ((now - prev.at) / 1000)) : 0;
    return { memoryBytes: rss, nanocores };
  }
}
