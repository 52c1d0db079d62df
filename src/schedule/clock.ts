import { SpecError } from '../core/errors.js';

/**
 * The scheduler's notion of "now". Production uses the wall clock. Tests (only tests) may run the
 * scheduler on a shifted and accelerated clock through DATAMILL_CLOCK, so a day of slots passes in
 * seconds and several processes started at different moments agree on the time:
 *
 *   DATAMILL_CLOCK="start=2026-03-29T00:00:00Z,at=<epoch ms>,speed=60"
 *
 * means: at real time `at` (default: when the process read the variable) the clock showed `start`, and
 * it runs `speed` times faster than real time. Run records keep real timestamps; only slots, fire times
 * and the catchup window follow this clock.
 */
export interface Clock {
  now(): number;
  /** How many real milliseconds pass while this clock advances `ms`. */
  realMs(ms: number): number;
}

export const wallClock: Clock = { now: () => Date.now(), realMs: (ms) => ms };

export function acceleratedClock(start: number, at: number, speed: number): Clock {
  return {
    now: () => start + (Date.now() - at) * speed,
    realMs: (ms) => ms / speed,
  };
}

/** Reads DATAMILL_CLOCK (test-only); the wall clock when it is not set. */
export function clockFromEnv(value: string | undefined): Clock {
  if (!value) return wallClock;
  const parts = Object.fromEntries(value.split(',').map((kv) => kv.split('=', 2) as [string, string]));
  const start = parts.start ? Date.parse(parts.start) : Date.now();
  const at = parts.at ? Number(parts.at) : Date.now();
  const speed = parts.speed ? Number(parts.speed) : 1;
  if (!Number.isFinite(start) || !Number.isFinite(at) || !(speed > 0)) {
    throw new SpecError(`DATAMILL_CLOCK=${value}: expected start=ISO-8601,at=EPOCH_MS,speed=N (a test-only setting)`);
  }
  return acceleratedClock(start, at, speed);
}
