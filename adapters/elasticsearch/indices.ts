import { esFailure, responseOf, type Connection } from './client.js';

type Settings = Record<string, unknown>;

/** What a name stands for in the cluster: the indices an alias points at, or one concrete index, or nothing. */
export interface NameState {
  aliasOf: string[];
  concrete: boolean;
}

export async function nameState(conn: Connection, name: string): Promise<NameState> {
  try {
    const r = (await conn.client.indices.getAlias({ name }, { ignore: [404] })) as Record<string, { aliases?: Record<string, unknown> }>;
    const aliasOf = Object.entries(r ?? {})
      .filter(([, v]) => typeof v === 'object' && v !== null && v.aliases !== undefined && name in v.aliases)
      .map(([index]) => index)
      .sort();
    if (aliasOf.length > 0) return { aliasOf, concrete: false };
    return { aliasOf: [], concrete: await conn.client.indices.exists({ index: name }) };
  } catch (err) {
    throw esFailure(err, `looking up ${name}`, conn);
  }
}

export async function indexExists(conn: Connection, index: string): Promise<boolean> {
  try {
    return await conn.client.indices.exists({ index });
  } catch (err) {
    throw esFailure(err, `looking up index ${index}`, conn);
  }
}

/** Creates an index; one created meanwhile by a concurrent load is fine when `existingIsFine`. */
export async function createIndex(conn: Connection, index: string, mappings: Record<string, unknown>, settings: Settings, existingIsFine: boolean): Promise<boolean> {
  try {
    await conn.client.indices.create({ index, mappings, settings } as never);
    return true;
  } catch (err) {
    if (existingIsFine && responseOf(err)?.type === 'resource_already_exists_exception') return false;
    throw esFailure(err, `creating index ${index}`, conn);
  }
}

export async function deleteIndex(conn: Connection, index: string): Promise<void> {
  try {
    await conn.client.indices.delete({ index }, { ignore: [404] });
  } catch (err) {
    throw esFailure(err, `deleting index ${index}`, conn);
  }
}

/** The index's own settings (`index.*` without the prefix), as the cluster reports them (strings). */
export async function indexSettings(conn: Connection, index: string): Promise<Settings> {
  try {
    const r = (await conn.client.indices.getSettings({ index })) as Record<string, { settings?: { index?: Settings } }>;
    return r[index]?.settings?.index ?? Object.values(r)[0]?.settings?.index ?? {};
  } catch (err) {
    throw esFailure(err, `reading the settings of ${index}`, conn);
  }
}

export async function putSettings(conn: Connection, index: string, settings: Settings): Promise<void> {
  try {
    await conn.client.indices.putSettings({ index, settings: { index: settings } } as never);
  } catch (err) {
    throw esFailure(err, `updating the settings of ${index}`, conn);
  }
}

export async function refresh(conn: Connection, index: string): Promise<void> {
  try {
    await conn.client.indices.refresh({ index });
  } catch (err) {
    throw esFailure(err, `refreshing ${index}`, conn);
  }
}

export async function countDocuments(conn: Connection, index: string): Promise<number> {
  try {
    return (await conn.client.count({ index })).count;
  } catch (err) {
    throw esFailure(err, `counting the documents of ${index}`, conn);
  }
}

/**
 * Points `alias` at `to` and away from every index it pointed at, in ONE _aliases call, which
 * Elasticsearch applies atomically: searches see the old data or the new, never both or neither. A
 * concrete index of the alias's name (from loads before `mode: replace`) is removed in the same call.
 */
export async function swapAlias(conn: Connection, alias: string, from: NameState, to: string): Promise<void> {
  const actions: unknown[] = [];
  if (from.concrete) actions.push({ remove_index: { index: alias } });
  for (const index of from.aliasOf) actions.push({ remove: { index, alias } });
  actions.push({ add: { index: to, alias } });
  try {
    await conn.client.indices.updateAliases({ actions } as never);
  } catch (err) {
    throw esFailure(err, `pointing alias ${alias} at ${to}`, conn);
  }
}
