import * as path from 'node:path';
import { Client, type ClientConfig } from 'pg';

/**
 * Where e2e tests find PostgreSQL: POSTGRES_HOST when set (CI uses the machine's server), otherwise
 * an embedded server the global setup starts. The global setup publishes the resolved connection in
 * these variables for the test workers.
 */
export const TEST_ENV = {
  host: 'TEST_PG_HOST',
  port: 'TEST_PG_PORT',
  user: 'TEST_PG_USER',
  password: 'TEST_PG_PASSWORD',
  template: 'TEST_PG_TEMPLATE',
  runId: 'TEST_RUN_ID',
  builtApp: 'TEST_BUILT_APP',
} as const;

export const TEST_DB_PREFIX = 'mr_test_';
export const EMBEDDED_TEST_PORT = Number(process.env.TEST_EMBEDDED_POSTGRES_PORT ?? 54339);
export const EMBEDDED_TEST_DIR = path.resolve(__dirname, '..', '..', '.data', 'test-postgres');

export interface ServerConnection {
  host: string;
  port: number;
  user: string;
  password?: string;
}

export function testServer(): ServerConnection {
  const host = process.env[TEST_ENV.host];
  if (!host) throw new Error('The e2e global setup did not run (TEST_PG_HOST is not set).');
  return {
    host,
    port: Number(process.env[TEST_ENV.port]),
    user: process.env[TEST_ENV.user] ?? 'postgres',
    password: process.env[TEST_ENV.password] || undefined,
  };
}

export async function withAdminClient<T>(server: ServerConnection, use: (client: Client) => Promise<T>): Promise<T> {
  const config: ClientConfig = { ...server, database: 'postgres' };
  const client = new Client(config);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

let counter = 0;

/** A new database for one suite, copied from the migrated template (a file copy: ~50 ms). */
export async function createSuiteDatabase(label: string, options: { empty?: boolean } = {}): Promise<string> {
  const server = testServer();
  const runId = process.env[TEST_ENV.runId];
  const safeLabel = label.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 20);
  const name = `${TEST_DB_PREFIX}${runId}_${process.pid}_${++counter}_${safeLabel}`.slice(0, 63);
  await withAdminClient(server, async (client) => {
    const template = options.empty ? 'template0' : process.env[TEST_ENV.template]!;
    // Two workers copying the same template at the same instant: PostgreSQL refuses the second
    // while the first holds the template open, so retry briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)} TEMPLATE ${client.escapeIdentifier(template)}`);
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== '55006' || attempt > 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  });
  return name;
}

export async function dropDatabase(name: string): Promise<void> {
  await withAdminClient(testServer(), (client) => client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`));
}
