import type Database from 'better-sqlite3';

/**
 * Prepared statements of one SQLite connection, prepared once per SQL text: preparing costs more than
 * running the small statements the stores issue. The texts are few (one per query shape); the bound only
 * guards against a caller that varies them.
 */
export function statementCache(db: Database.Database): (sql: string) => Database.Statement {
  const statements = new Map<string, Database.Statement>();
  return (sql) => {
    let st = statements.get(sql);
    if (!st) {
      if (statements.size >= 500) statements.clear();
      st = db.prepare(sql);
      statements.set(sql, st);
    }
    return st;
  };
}
