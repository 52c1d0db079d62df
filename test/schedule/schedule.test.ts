import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSchedule, slotsBetween } from '../../src/schedule/schedule.js';

const iso = (ms: number[]) => ms.map((t) => new Date(t).toISOString());
const at = (s: string) => Date.parse(s);

test('a 02:30 cron job fires once on the spring-forward day and once on the fall-back day', () => {
  const s = compileSchedule({ cron: '30 2 * * *', timezone: 'Europe/Madrid' });
  // 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist and the job runs once, at 03:00 local.
  assert.deepEqual(iso(slotsBetween(s, at('2026-03-28T00:00:00Z'), at('2026-03-30T23:00:00Z'))), ['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
  // 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice and the job runs once.
  assert.deepEqual(iso(slotsBetween(s, at('2026-10-24T00:00:00Z'), at('2026-10-26T23:00:00Z'))), ['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
});

test('a daily ISO interval keeps its wall-clock time across DST in its zone, and fires once on both change days', () => {
  const s = compileSchedule({ every: 'R/2026-03-27T02:30:00/P1D', timezone: 'Europe/Madrid' });
  assert.deepEqual(iso(slotsBetween(s, at('2026-03-27T00:00:00Z'), at('2026-03-30T23:00:00Z'))), ['2026-03-27T01:30:00.000Z', '2026-03-28T01:30:00.000Z', '2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z']);
  const fall = slotsBetween(s, at('2026-10-24T00:00:00Z'), at('2026-10-26T23:00:00Z'));
  // luxon reads the repeated 02:30 as the later one (CET): still exactly one fire that day.
  assert.deepEqual(iso(fall), ['2026-10-24T00:30:00.000Z', '2026-10-25T01:30:00.000Z', '2026-10-26T01:30:00.000Z']);
});

test('cron takes 5 fields or 6 with seconds, and rejects other shapes naming what is expected', () => {
  const six = compileSchedule({ cron: '*/10 * * * * *' });
  assert.deepEqual(iso(slotsBetween(six, at('2026-01-01T00:00:05Z'), at('2026-01-01T00:00:30Z'))), ['2026-01-01T00:00:10.000Z', '2026-01-01T00:00:20.000Z', '2026-01-01T00:00:30.000Z']);
  assert.throws(() => compileSchedule({ cron: '0 3 * *' }), /has 4 fields.*/);
  assert.throws(() => compileSchedule({ cron: '61 * * * *' }), /minute/);
  assert.throws(() => compileSchedule({ cron: '0 3 * * *', timezone: 'Mars/Olympus' }), /unknown time zone 'Mars\/Olympus'/);
});

test('Chronos intervals: R<n> stops after n slots, R repeats forever, bad text is refused', () => {
  const r3 = compileSchedule({ every: 'R3/2026-01-01T00:00:00Z/PT1H' });
  assert.deepEqual(iso(slotsBetween(r3, at('2025-12-31T00:00:00Z'), at('2026-02-01T00:00:00Z'))), ['2026-01-01T00:00:00.000Z', '2026-01-01T01:00:00.000Z', '2026-01-01T02:00:00.000Z']);
  assert.equal(r3.nextAfter(at('2026-01-01T02:00:00Z')), null);
  assert.equal(new Date(r3.latestAtOrBefore(at('2026-05-01T00:00:00Z'))!).toISOString(), '2026-01-01T02:00:00.000Z');
  const forever = compileSchedule({ every: 'R/2026-01-01T00:00:00Z/PT15M' });
  assert.equal(new Date(forever.nextAfter(at('2030-06-01T10:07:00Z'))!).toISOString(), '2030-06-01T10:15:00.000Z');
  assert.equal(new Date(forever.latestAtOrBefore(at('2030-06-01T10:15:00Z'))!).toISOString(), '2030-06-01T10:15:00.000Z');
  assert.throws(() => compileSchedule({ every: 'every day' }), /not an ISO-8601 repeating interval/);
  assert.throws(() => compileSchedule({ every: 'R/2026-01-01T00:00:00Z/P0D' }), /bad duration/);
  assert.throws(() => compileSchedule({ every: 'R/yesterday/P1D' }), /bad start/);
});
