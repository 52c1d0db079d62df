import { join, resolve } from 'node:path';
import { SpecError } from '../core/errors.js';
import { describeUrl } from '../spec/secrets.js';
import { PostgresStateStore } from '../state/postgres-store.js';
import { SqliteStateStore } from '../state/sqlite-store.js';
import type { StateStore } from '../state/store.js';
import { markAbandonedRuns } from '../runtime/orphans.js';

/** The Datamill home (state and logs): --home, else DATAMILL_HOME, else `.datamill` in the working directory. */
export function homeDir(option?: string): string {
  return resolve(option ?? process.env.DATAMILL_HOME ?? '.datamill');
}

/** Where state lives: --state, else DATAMILL_STATE_URL; a postgres:// URL is PostgreSQL, anything else SQLite in the home. */
export function stateUrl(option?: string): string | undefined {
  return option ?? (process.env.DATAMILL_STATE_URL || undefined);
}

/** Opens the state store, first marking runs whose `datamill run` process died as interrupted. */
export async function openStore(home: string, url = stateUrl()): Promise<StateStore> {
  let store: StateStore;
  if (!url) store = new SqliteStateStore(join(home, 'state.db'));
  else if (/^postgres(ql)?:\/\//.test(url)) store = await PostgresStateStore.open(url);
  else if (/^sqlite:/.test(url)) store = new SqliteStateStore(resolve(url.replace(/^sqlite:(\/\/)?/, '')));
  else throw new SpecError(`--state ${describeUrl(url)}: expected a postgres://… URL (or sqlite:PATH); without it state is SQLite in the home`);
  await markAbandonedRuns(store);
  return store;
}
