import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { EmbeddedPostgres, isAlive } from '../../src/database/embedded-postgres';
import { migrateDatabase } from '../../src/database/migration-runner';
import { EMBEDDED_TEST_DIR, EMBEDDED_TEST_PORT, TEST_DB_PREFIX, TEST_ENV, withAdminClient, type ServerConnection } from './test-database';

declare global {
  var __EMBEDDED_TEST_POSTGRES__: EmbeddedPostgres | undefined;
}

const quietLogger = { info: () => undefined, warn: console.warn, debug: () => undefined };

/**
 * Once per `npm test`: find or start PostgreSQL, drop databases left by killed earlier runs, create
 * this run's template database with every migration applied, and compile the app once for the tests
 * that run it as real processes.
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  let server: ServerConnection;
  if (process.env.POSTGRES_HOST) {
    server = {
      host: process.env.POSTGRES_HOST,
      port: Number(process.env.POSTGRES_PORT ?? 5432),
      user: process.env.POSTGRES_USER ?? 'postgres',
      password: process.env.POSTGRES_PASSWORD,
    };
  } else {
    const embedded = new EmbeddedPostgres({
      dataDir: EMBEDDED_TEST_DIR,
      port: EMBEDDED_TEST_PORT,
      user: 'postgres',
      password: 'postgres',
      databases: [],
      logger: quietLogger as never,
    });
    await embedded.start();
    globalThis.__EMBEDDED_TEST_POSTGRES__ = embedded;
    server = embedded.connection;
  }

  const runId = `${process.pid}_${Date.now().toString(36)}`;
  await dropStaleTestDatabases(server);
  const template = `${TEST_DB_PREFIX}${runId}_template`;
  await withAdminClient(server, (client) => client.query(`CREATE DATABASE ${client.escapeIdentifier(template)}`));
  await migrateDatabase(server, template, 'model-registry-test-setup');

  Object.assign(process.env, {
    [TEST_ENV.host]: server.host,
    [TEST_ENV.port]: String(server.port),
    [TEST_ENV.user]: server.user,
    [TEST_ENV.password]: server.password ?? '',
    [TEST_ENV.template]: template,
    [TEST_ENV.runId]: runId,
    [TEST_ENV.builtApp]: buildApp(),
  });
  if (process.env.TEST_VERBOSE) console.log(`\ne2e setup ready in ${Date.now() - started} ms (template ${template})`);
}

/** Test databases whose run's process is gone (a killed or crashed earlier run). */
async function dropStaleTestDatabases(server: ServerConnection): Promise<void> {
  await withAdminClient(server, async (client) => {
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${TEST_DB_PREFIX}%`]);
    for (const { datname } of rows) {
      const pid = Number(datname.slice(TEST_DB_PREFIX.length).split('_')[0]);
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) continue;
      await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(datname)} WITH (FORCE)`);
    }
  });
}

/**
 * Compiles the service (and its migrations) into .data/test-build, for tests that start it as a real
 * process (graceful shutdown, database outage, replicas). A separate folder, so a running `npm start`
 * and its dist/ are left alone.
 */
function buildApp(): string {
  const root = path.resolve(__dirname, '..', '..');
  const outDir = path.join(root, '.data', 'test-build');
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir, '--tsBuildInfoFile', path.join(outDir, '.tsbuildinfo')], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, [tsc, '-p', 'migrations/tsconfig.json', '--outDir', path.join(outDir, 'migrations')], { cwd: root, stdio: 'inherit' });
  return path.join(outDir, 'main.js');
}
