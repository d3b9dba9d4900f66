import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client } from 'pg';
import pino from 'pino';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { createApp } from '../../src/app.factory';
import { appConfigFrom } from '../../src/config/app.config';
import { parseEnvironment } from '../../src/config/environment';
import { createSuiteDatabase, dropDatabase, testServer } from '../setup/test-database';

export interface TestApp {
  app: NestFastifyApplication;
  http: TestAgent;
  /** A direct connection to the suite's database, to check state independently of the API. */
  db: Client;
  database: string;
  close(): Promise<void>;
}

/**
 * Boots the real application (the same factory as `npm start`) on a database of its own, copied from
 * the migrated template. Extra environment variables override the defaults for this suite.
 */
export async function createTestApp(label: string, env: Record<string, string> = {}): Promise<TestApp> {
  const server = testServer();
  const database = await createSuiteDatabase(label);
  const restoreEnv = setEnv({
    POSTGRES_HOST: server.host,
    POSTGRES_PORT: String(server.port),
    POSTGRES_USER: server.user,
    POSTGRES_PASSWORD: server.password ?? '',
    POSTGRES_DB: database,
    DB_POOL_SIZE: '10',
    ...env,
  });
  let app: NestFastifyApplication;
  try {
    const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
    app = await createApp(appConfigFrom(parseEnvironment()), logger);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  } finally {
    // Config namespaces are read during init; restore so suites cannot leak settings into each other.
    restoreEnv();
  }
  const db = new Client({ ...server, database });
  await db.connect();
  return {
    app,
    http: request(app.getHttpServer()),
    db,
    database,
    async close() {
      await db.end();
      await app.close();
      await dropDatabase(database);
    },
  };
}

/** Sets environment variables and returns a function that puts the previous values back. */
export function setEnv(vars: Record<string, string>): () => void {
  const previous = Object.fromEntries(Object.keys(vars).map((key) => [key, process.env[key]]));
  Object.assign(process.env, vars);
  return () => {
    for (const [key, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}
