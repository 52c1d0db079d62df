import { join, resolve } from 'node:path';
import { SqliteStateStore } from '../state/sqlite-store.js';
import type { StateStore } from '../state/store.js';
import { markAbandonedRuns } from '../runtime/orphans.js';

/** The Datamill home (state and logs): --home, else DATAMILL_HOME, else `.datamill` in the working directory. */
export function homeDir(option?: string): string {
  return resolve(option ?? process.env.DATAMILL_HOME ?? '.datamill');
}

/** Opens the state store, first marking runs whose `datamill run` process died as interrupted. */
export async function openStore(home: string): Promise<StateStore> {
  const store = new SqliteStateStore(join(home, 'state.db'));
  await markAbandonedRuns(store);
  return store;
}
