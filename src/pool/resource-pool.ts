import { DatamillError } from '../core/errors.js';
import { formatBytes } from '../spec/units.js';

/** What one task asks of the pool, and who it is for (shown by `datamill pool`). */
export interface PoolRequest {
  cpus: number;
  memoryBytes: number;
  tenant: string;
  /** Higher first; equal priorities are served first come, first served. */
  priority: number;
  job: string;
  run: string;
  stage: string;
}

export interface PoolCapacity {
  cpus: number;
  memoryBytes: number;
  /** Per-tenant ceilings on cpus and memory in use at once; tenants not listed share the whole capacity. */
  quotas: Record<string, { cpus: number; memoryBytes: number }>;
}

/** A task refused at once: it could never fit the pool (or its tenant's quota), so waiting would be forever. */
export class PoolError extends DatamillError {}

export interface PoolEntry extends PoolRequest {
  id: number;
  /** When it started waiting (queued) or was admitted (running). */
  since: string;
}

/** Admission history, so tests (and operators) can check what ran at once. */
export interface PoolEvent {
  type: 'queue' | 'admit' | 'release' | 'cancel';
  id: number;
  at: number;
  running: number;
  cpusInUse: number;
  memoryInUse: number;
}

/** Held while a task runs; `release` gives its share back (calling it twice is harmless). */
export interface PoolLease {
  readonly id: number;
  release(): void;
}

interface Waiter {
  entry: PoolEntry;
  seq: number;
  admit(lease: PoolLease): void;
}

const MAX_EVENTS = 10_000;

/**
 * The resource pool (DESIGN §6): a task starts only when its cpus and memory fit in what is free and its
 * tenant stays within quota; the others wait, highest priority first, then in arrival order. A waiter
 * blocked by the machine's capacity holds back those behind it (so a large task is not starved by a
 * stream of small ones); one blocked only by its own tenant's quota lets other tenants pass.
 */
export class ResourcePool {
  readonly capacity: PoolCapacity;
  readonly events: PoolEvent[] = [];
  private readonly running = new Map<number, PoolEntry>();
  private waiting: Waiter[] = [];
  private nextId = 1;
  private cpusInUse = 0;
  private memoryInUse = 0;

  constructor(capacity: PoolCapacity) {
    this.capacity = capacity;
  }

  /** Waits until the request fits, then returns its lease. Rejects at once with PoolError when it never can. */
  acquire(request: PoolRequest, signal?: AbortSignal): Promise<PoolLease> {
    try {
      this.refuseImpossible(request);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (signal?.aborted) return Promise.reject(cancelled(request));
    const entry: PoolEntry = { ...request, id: this.nextId++, since: new Date().toISOString() };
    return new Promise<PoolLease>((resolve, reject) => {
      const waiter: Waiter = { entry, seq: entry.id, admit: resolve };
      this.waiting.push(waiter);
      this.waiting.sort((a, b) => b.entry.priority - a.entry.priority || a.seq - b.seq);
      this.record('queue', entry.id);
      const onAbort = () => {
        if (!this.waiting.includes(waiter)) return;
        this.waiting = this.waiting.filter((w) => w !== waiter);
        this.record('cancel', entry.id);
        reject(cancelled(request));
        // A cancelled head of the queue may have held others back.
        this.drain();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      waiter.admit = (lease) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(lease);
      };
      this.drain();
    });
  }

  /** Admits the request now if nothing waits and it fits; null otherwise (then `acquire` to wait). */
  tryAcquire(request: PoolRequest): PoolLease | null {
    this.refuseImpossible(request);
    if (this.waiting.length > 0 || !this.fitsNow(request)) return null;
    return this.admit({ ...request, id: this.nextId++, since: new Date().toISOString() });
  }

  /** What runs and what waits, in queue order. */
  snapshot(): { capacity: PoolCapacity; inUse: { cpus: number; memoryBytes: number }; running: PoolEntry[]; waiting: PoolEntry[] } {
    return {
      capacity: this.capacity,
      inUse: { cpus: this.cpusInUse, memoryBytes: this.memoryInUse },
      running: [...this.running.values()].map((e) => ({ ...e })),
      waiting: this.waiting.map((w) => ({ ...w.entry })),
    };
  }

  /** The most tasks that ever ran at once, from the records. */
  peakRunning(): number {
    return Math.max(0, ...this.events.map((e) => e.running));
  }

  private refuseImpossible(r: PoolRequest): void {
    const what = `${r.job}/${r.stage} (tenant ${r.tenant}) asks for ${r.cpus} cpus and ${formatBytes(r.memoryBytes)}`;
    if (!(r.cpus > 0) || !(r.memoryBytes > 0)) throw new PoolError(`${what}: a task must request more than 0 cpus and 0 bytes`, { details: { value: { cpus: r.cpus, memoryBytes: r.memoryBytes }, expected: 'positive resources' } });
    const c = this.capacity;
    if (r.cpus > c.cpus || r.memoryBytes > c.memoryBytes) {
      throw new PoolError(`${what}, but the whole pool has ${c.cpus} cpus and ${formatBytes(c.memoryBytes)}: it can never start. Lower resources: in the job, or give the pool more (--pool-cpus / --pool-memory, DATAMILL_POOL_CPUS / DATAMILL_POOL_MEMORY)`, {
        details: { where: 'resources', value: { cpus: r.cpus, memory: formatBytes(r.memoryBytes) }, expected: `at most ${c.cpus} cpus and ${formatBytes(c.memoryBytes)}` },
      });
    }
    const q = c.quotas[r.tenant];
    if (q && (r.cpus > q.cpus || r.memoryBytes > q.memoryBytes)) {
      throw new PoolError(`${what}, but tenant ${r.tenant}'s quota is ${q.cpus} cpus and ${formatBytes(q.memoryBytes)}: it can never start`, {
        details: { where: 'resources', value: { cpus: r.cpus, memory: formatBytes(r.memoryBytes) }, expected: `at most ${q.cpus} cpus and ${formatBytes(q.memoryBytes)} (tenant quota)` },
      });
    }
  }

  private tenantUse(tenant: string): { cpus: number; memoryBytes: number } {
    let cpus = 0;
    let memoryBytes = 0;
    for (const e of this.running.values()) {
      if (e.tenant !== tenant) continue;
      cpus += e.cpus;
      memoryBytes += e.memoryBytes;
    }
    return { cpus, memoryBytes };
  }

  private drain(): void {
    for (let i = 0; i < this.waiting.length; ) {
      const w = this.waiting[i]!;
      const r = w.entry;
      if (!this.fitsNow(r)) {
        // Blocked by its tenant's quota only: others may pass. Blocked by the machine: everyone behind waits.
        if (this.capacity.quotas[r.tenant] && this.fitsNow({ ...r, tenant: '\0' })) {
          i++;
          continue;
        }
        return;
      }
      this.waiting.splice(i, 1);
      w.admit(this.admit(r));
    }
  }

  private fitsNow(r: PoolRequest): boolean {
    // Floating-point cpus (0.5 + 0.25 …) must not refuse an exact fit.
    const fits = (used: number, add: number, limit: number) => used + add <= limit + 1e-9;
    if (!fits(this.cpusInUse, r.cpus, this.capacity.cpus) || !fits(this.memoryInUse, r.memoryBytes, this.capacity.memoryBytes)) return false;
    const q = this.capacity.quotas[r.tenant];
    if (!q) return true;
    const t = this.tenantUse(r.tenant);
    return fits(t.cpus, r.cpus, q.cpus) && fits(t.memoryBytes, r.memoryBytes, q.memoryBytes);
  }

  private admit(r: PoolEntry): PoolLease {
    this.cpusInUse += r.cpus;
    this.memoryInUse += r.memoryBytes;
    r.since = new Date().toISOString();
    this.running.set(r.id, r);
    this.record('admit', r.id);
    let released = false;
    return {
      id: r.id,
      release: () => {
        if (released) return;
        released = true;
        this.running.delete(r.id);
        this.cpusInUse -= r.cpus;
        this.memoryInUse -= r.memoryBytes;
        this.record('release', r.id);
        this.drain();
      },
    };
  }

  private record(type: PoolEvent['type'], id: number): void {
    this.events.push({ type, id, at: Date.now(), running: this.running.size, cpusInUse: this.cpusInUse, memoryInUse: this.memoryInUse });
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
  }
}

function cancelled(r: PoolRequest): DatamillError {
  return new DatamillError(`${r.job}/${r.stage} was cancelled while waiting for the pool`, { details: { where: r.stage } });
}
