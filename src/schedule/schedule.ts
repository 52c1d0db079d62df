import { Cron } from 'croner';
import { DateTime, Duration, IANAZone } from 'luxon';
import { SpecError } from '../core/errors.js';

/** When a job fires: the slots of a cron expression or of an ISO-8601 repeating interval, in a time zone. */
export interface SlotSchedule {
  /** What the user wrote: the cron text or the `every` interval. */
  readonly text: string;
  readonly timezone: string;
  /** The first slot strictly after `t` (epoch ms), or null once the schedule has ended (R<n>). */
  nextAfter(t: number): number | null;
  /** The latest slot at or before `t`, or null when there is none. */
  latestAtOrBefore(t: number): number | null;
}

export interface ScheduleSpec {
  cron?: string | undefined;
  every?: string | undefined;
  timezone?: string | undefined;
}

/** Compiles a job's `schedule:`; throws SpecError naming the bad value and what is expected. */
export function compileSchedule(spec: ScheduleSpec): SlotSchedule {
  const timezone = spec.timezone ?? 'UTC';
  if (!IANAZone.isValidZone(timezone)) throw new SpecError(`unknown time zone '${timezone}'`, { details: { where: 'schedule.timezone', value: timezone, expected: 'an IANA zone such as Europe/Madrid or UTC' } });
  if (spec.cron !== undefined) return cronSchedule(spec.cron, timezone);
  if (spec.every !== undefined) return intervalSchedule(spec.every, timezone);
  throw new SpecError('a schedule needs "cron" or "every"', { details: { where: 'schedule' } });
}

function cronSchedule(text: string, timezone: string): SlotSchedule {
  const fields = text.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) throw new SpecError(`cron '${text}' has ${fields} fields`, { details: { where: 'schedule.cron', value: text, expected: '5 fields (minute hour day month weekday) or 6 (with seconds first)' } });
  let cron: Cron;
  try {
    // A day-of-month and a weekday together match either (Vixie cron's rule, which users of crontab expect).
    cron = new Cron(text, { timezone, paused: true, domAndDow: false });
  } catch (err) {
    throw new SpecError(`cron '${text}': ${(err as Error).message.replace(/^CronPattern: /, '')}`, { details: { where: 'schedule.cron', value: text, expected: '5 or 6 cron fields' } });
  }
  return {
    text,
    timezone,
    nextAfter: (t) => cron.nextRun(new Date(t))?.getTime() ?? null,
    latestAtOrBefore: (t) => cron.previousRuns(1, new Date(t + 1))[0]?.getTime() ?? null,
  };
}

const INTERVAL = /^R(\d*)\/([^/]+)\/(P[^/]+)$/;

/**
 * Chronos' `R[n]/start/duration`: `n` repetitions (unbounded when empty) from `start`, `duration` apart.
 * Durations are calendar-aware in the job's zone (luxon): P1D keeps the wall-clock time across DST.
 */
function intervalSchedule(text: string, timezone: string): SlotSchedule {
  const m = INTERVAL.exec(text.trim());
  const expected = 'R[n]/START/DURATION, e.g. R/2026-01-01T03:00:00Z/P1D or R10/2026-01-01T00:00:00+01:00/PT30M';
  if (!m) throw new SpecError(`every '${text}' is not an ISO-8601 repeating interval`, { details: { where: 'schedule.every', value: text, expected } });
  const count = m[1] === '' ? Infinity : Number(m[1]);
  const start = DateTime.fromISO(m[2]!, { zone: timezone, setZone: false });
  const step = Duration.fromISO(m[3]!);
  if (!start.isValid) throw new SpecError(`every '${text}': bad start '${m[2]}' (${start.invalidExplanation ?? start.invalidReason})`, { details: { where: 'schedule.every', value: m[2], expected } });
  const approxMs = step.isValid ? step.as('milliseconds') : 0;
  if (!step.isValid || approxMs <= 0) throw new SpecError(`every '${text}': bad duration '${m[3]}'`, { details: { where: 'schedule.every', value: m[3], expected: 'an ISO-8601 duration such as PT1M, PT1H, P1D, P1W, P1M' } });
  const zoned = start.setZone(timezone);
  const slot = (k: number) => zoned.plus(step.mapUnits((x) => x * k)).toMillis();
  // The index of the last slot at or before t (an estimate from the mean length, then corrected).
  const indexAtOrBefore = (t: number): number => {
    let k = Math.floor((t - zoned.toMillis()) / approxMs);
    while (k >= 0 && slot(k) > t) k--;
    while (slot(k + 1) <= t) k++;
    return k;
  };
  return {
    text,
    timezone,
    nextAfter(t) {
      const k = Math.max(0, indexAtOrBefore(t) + 1);
      return k < count ? slot(k) : null;
    },
    latestAtOrBefore(t) {
      const k = Math.min(indexAtOrBefore(t), count - 1);
      return k >= 0 ? slot(k) : null;
    },
  };
}

/** The slots a schedule fires in (from, to], oldest first, at most `limit`. */
export function slotsBetween(schedule: SlotSchedule, from: number, to: number, limit = Infinity): number[] {
  const out: number[] = [];
  for (let t = schedule.nextAfter(from); t !== null && t <= to && out.length < limit; t = schedule.nextAfter(t)) out.push(t);
  return out;
}
