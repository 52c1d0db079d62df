import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startPostgres, type PostgresServer } from './postgres-server.js';

let ownServer: PostgresServer | null = null;

/**
 * The admin URL of the test PostgreSQL. `npm test` starts one server for the whole run and hands its URL
 * in DATAMILL_TEST_PG_URL; a test file run on its own starts a private server.
 */
async function adminUrl(): Promise<string> {
  const fromEnv = process.env.DATAMILL_TEST_PG_URL;
  if (fromEnv) return fromEnv;
  if (!ownServer) {
    ownServer = await startPostgres();
    process.env.DATAMILL_TEST_PG_URL = ownServer.url;
    process.once('exit', () => ownServer?.stop());
  }
  return ownServer.url;
}

export interface TestDatabase {
  /** Connection URL of a fresh, empty database private to this test. */
  url: string;
  name: string;
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** A fresh database per test, like graphile-worker's tests: no test sees another's tables. */
export async function testDatabase(): Promise<TestDatabase> {
  const admin = await adminUrl();
  const name = `t_${randomBytes(6).toString('hex')}`;
  const adminClient = new pg.Client({ connectionString: admin });
  await adminClient.connect();
  await adminClient.query(`CREATE DATABASE ${name}`);
  await adminClient.end();
  const url = admin.replace(/\/[^/]*$/, `/${name}`);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  // DROP DATABASE … WITH (FORCE) terminates this database's sessions; an idle client hearing that is expected.
  pool.on('error', () => undefined);
  return {
    url,
    name,
    async query(sql, params) {
      return (await pool.query(sql, params)).rows;
    },
    async drop() {
      await pool.end();
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
