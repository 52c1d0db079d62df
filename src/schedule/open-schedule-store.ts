import { join } from 'node:path';
import { PostgresScheduleStore } from './postgres-schedule-store.js';
import type { ScheduleStore } from './schedule-store.js';
import { SqliteScheduleStore } from './sqlite-schedule-store.js';

/** PostgreSQL when a postgres:// state URL is given (--state or DATAMILL_STATE_URL), else the home's SQLite file. */
export async function openScheduleStore(home: string, stateUrl?: string): Promise<ScheduleStore> {
  const url = stateUrl ?? process.env.DATAMILL_STATE_URL;
  if (url && /^postgres(ql)?:\/\//.test(url)) return PostgresScheduleStore.open(url);
  return new SqliteScheduleStore(join(home, 'state.db'));
}
