import { join, resolve } from 'node:path';
import { SqliteStateStore } from '../state/sqlite-store.js';
import type { StateStore } from '../state/store.js';

/** The Datamill home (state and logs): --home, else DATAMILL_HOME, else `.datamill` in the working directory. */
export function homeDir(option?: string): string {
  return resolve(option ?? process.env.DATAMILL_HOME ?? '.datamill');
}

export function openStore(home: string): StateStore {
  return new SqliteStateStore(join(home, 'state.db'));
}
