import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Client } from 'pg';
import pino from 'pino';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { configureApp, createFastifyAdapter, NEST_APPLICATION_OPTIONS } from '../../src/app.factory';
import { AppModule } from '../../src/app.module';
import { PinoLoggerService } from '../../src/common/logging/logger';
import { appConfigFrom } from '../../src/config/app.config';
import { parseEnvironment } from '../../src/config/environment';
import { startMetricsOnly } from '../../src/telemetry/telemetry';
import { createSuiteDatabase, dropDatabase, testServer } from '../setup/test-database';
import { contractChecked } from './contract';

export interface TestApp {
  app: NestFastifyApplication;
  /** Requests to the app; every response is checked against openapi.json (see contract.ts). */
  http: TestAgent;
  /** A direct connection to the suite's database, to check state independently of the API. */
  db: Client;
  database: string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Environment variables for this app (defaults below). */
  env?: Record<string, string>;
  /** Providers to replace, e.g. the Clock. */
  overrides?: { provide: unknown; useValue: unknown }[];
  /** Collects the app's log lines (info and above) here, parsed. */
  logs?: Record<string, unknown>[];
}

let routing: Record<string, string> = {};

/**
 * Makes every app created from now on (in this test file) connect with these settings, e.g. through a
 * PgBouncer; without an argument, apps connect straight to the test server again. Each app's own
 * `env` still wins.
 */
export function routeTestApps(env: Record<string, string> = {}): void {
  routing = env;
}

/**
 * Boots the real application (the same module, adapter and configuration as `npm start`) on a
 * database of its own, copied from the migrated template. The nightly retention job, webhook delivery,
 * authentication (AUTH_REQUIRED) and the rate limit are off unless a suite turns them on.
 */
export async function createTestApp(label: string, options: TestAppOptions = {}): Promise<TestApp> {
  startMetricsOnly('model-registry-test');
  const server = testServer();
  const database = await createSuiteDatabase(label);
  const restoreEnv = setEnv({
    POSTGRES_HOST: server.host,
    POSTGRES_PORT: String(server.port),
    POSTGRES_USER: server.user,
    POSTGRES_PASSWORD: server.password ?? '',
    POSTGRES_DB: database,
    DB_POOL_SIZE: '10',
    RETENTION_ENABLED: 'false',
    ...routing,
    WEBHOOK_DELIVERY_ENABLED: 'false',
    // Suites that test security turn these on; the others exercise features, not credentials.
    AUTH_REQUIRED: 'false',
    RATE_LIMIT_PER_MINUTE: '0',
    ...options.env,
  });
  let app: NestFastifyApplication;
  try {
    const collected = options.logs;
    const logger = collected
      ? pino({ level: 'info' }, { write: (line: string) => void collected.push(JSON.parse(line) as Record<string, unknown>) })
      : pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
    let builder = Test.createTestingModule({ imports: [AppModule] });
    for (const override of options.overrides ?? []) builder = builder.overrideProvider(override.provide).useValue(override.useValue);
    const moduleRef = await builder.compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(logger, appConfigFrom(parseEnvironment())), {
      ...NEST_APPLICATION_OPTIONS,
      logger: new PinoLoggerService(logger),
    });
    await configureApp(app, appConfigFrom(parseEnvironment()));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  } finally {
    // Config namespaces are read during compile; restore so suites cannot leak settings into each other.
    restoreEnv();
  }
  const db = new Client({ ...server, database });
  await db.connect();
  return {
    app,
    http: contractChecked(request(app.getHttpServer())),
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
