import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import { Log, type KubeConfig } from '@kubernetes/client-node';
import { STAGE_CONTAINER } from './stage-job-manifest.js';

/** RFC3339(Nano) timestamp → nanoseconds since the epoch (the API trims trailing zeros, so strings do not sort). */
export function timestampNanos(ts: string): bigint | null {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  if (!m) return null;
  const ms = Date.parse(m[1]! + m[3]!);
  if (Number.isNaN(ms)) return null;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

export interface LogFollower {
  /** Settles once every line the container wrote has been delivered (or `stop` was called). */
  done: Promise<void>;
  stop(): void;
}

/**
 * Follows a stage container's log line by line. A follow stream can close while the container still runs
 * (API server or kubelet timeouts), so it reconnects from the last line's timestamp and skips what it has
 * already delivered; only a stream opened after the container was seen terminated is known to be complete.
 */
export function followPodLogs(a: { config: KubeConfig; namespace: string; pod: string; onLine(line: string): void; terminated(): boolean; retryMs?: number }): LogFollower {
  let stopped = false;
  let abort: AbortController | null = null;
  let lastNs = -1n;
  let atLast = 0;

  const openOnce = (sinceTime: string | undefined): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const decoder = new StringDecoder('utf8');
      let pending = '';
      let seenAtLast = 0;
      const deliver = (raw: string) => {
        const space = raw.indexOf(' ');
        const ns = space > 0 ? timestampNanos(raw.slice(0, space)) : null;
        const text = ns === null ? raw : raw.slice(space + 1);
        if (ns !== null) {
          if (ns < lastNs) return;
          if (ns === lastNs) {
            if (seenAtLast++ < atLast) return;
            atLast++;
          } else {
            lastNs = ns;
            atLast = 1;
            seenAtLast = 1;
          }
        }
        a.onLine(text.endsWith('\r') ? text.slice(0, -1) : text);
      };
      const sink = new Writable({
        write(chunk: Buffer, _enc, next) {
          pending += decoder.write(chunk);
          let nl: number;
          while ((nl = pending.indexOf('\n')) >= 0) {
            deliver(pending.slice(0, nl));
            pending = pending.slice(nl + 1);
          }
          next();
        },
        final(next) {
          pending += decoder.end();
          if (pending) deliver(pending);
          pending = '';
          next();
        },
      });
      sink.once('finish', () => resolve());
      sink.once('error', reject);
      new Log(a.config)
        .log(a.namespace, a.pod, STAGE_CONTAINER, sink, { follow: true, timestamps: true, ...(sinceTime ? { sinceTime } : {}) })
        .then((controller) => {
          abort = controller;
          // An aborted body never ends the sink: settle here so stop() cannot hang the follower.
          controller.signal.addEventListener('abort', () => resolve(), { once: true });
          if (stopped) controller.abort();
        }, reject);
    });

  const done = (async () => {
    for (;;) {
      if (stopped) return;
      const complete = a.terminated();
      const since = lastNs >= 0n ? new Date(Number(lastNs / 1_000_000_000n) * 1000).toISOString().replace(/\.\d+Z$/, 'Z') : undefined;
      try {
        await openOnce(since);
        if (complete) return;
      } catch {
        // The container may not accept log requests yet, or the connection dropped: try again shortly.
        if (complete && a.terminated()) return;
      }
      await sleep(a.retryMs ?? 500);
    }
  })();
  return {
    done,
    stop() {
      stopped = true;
      abort?.abort();
    },
  };
}
