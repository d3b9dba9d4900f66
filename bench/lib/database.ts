import * as path from 'node:path';
import { Client } from 'pg';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { migrateDatabase } from '../../src/database/migration-runner';

export interface Server {
  host: string;
  port: number;
  user: string;
  password?: string;
}

const quiet = { info: () => undefined, warn: console.warn, debug: () => undefined } as never;

/**
 * The PostgreSQL benchmarks run on: POSTGRES_HOST when set, otherwise an embedded server of their
 * own (data in .data/bench-postgres, port BENCH_POSTGRES_PORT or 54359).
 */
export async function benchServer(): Promise<{ server: Server; stop: () => Promise<void> }> {
  if (process.env.POSTGRES_HOST) {
    return {
      server: {
        host: process.env.POSTGRES_HOST,
        port: Number(process.env.POSTGRES_PORT ?? 5432),
        user: process.env.POSTGRES_USER ?? 'postgres',
        password: process.env.POSTGRES_PASSWORD,
      },
      stop: async () => undefined,
    };
  }
  const embedded = new EmbeddedPostgres({
    dataDir: path.resolve(__dirname, '..', '..', '.data', 'bench-postgres'),
    port: Number(process.env.BENCH_POSTGRES_PORT ?? 54359),
    user: 'postgres',
    password: 'postgres',
    databases: [],
    logger: quiet,
  });
  await embedded.start();
  return { server: embedded.connection, stop: () => embedded.stop() };
}

export async function withClient<T>(server: Server, database: string, use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ ...server, database });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

/** Drops and recreates `name`, optionally as a copy of `template`. */
export async function freshDatabase(server: Server, name: string, template?: string): Promise<void> {
  await withClient(server, 'postgres', async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}${template ? ` TEMPLATE ${client.escapeIdentifier(template)}` : ''}`);
  });
}

export async function dropDatabase(server: Server, name: string): Promise<void> {
  await withClient(server, 'postgres', (client) => client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`));
}

export async function migrate(server: Server, database: string): Promise<void> {
  await migrateDatabase(server, database, 'bench-migrate');
}

/** The environment that points the service at `database`. */
export function serviceDatabaseEnv(server: Server, database: string): Record<string, string> {
  return {
    POSTGRES_HOST: server.host,
    POSTGRES_PORT: String(server.port),
    POSTGRES_USER: server.user,
    POSTGRES_PASSWORD: server.password ?? '',
    POSTGRES_DB: database,
  };
}
