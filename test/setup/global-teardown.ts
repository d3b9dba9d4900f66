import { TEST_DB_PREFIX, TEST_ENV, testServer, withAdminClient } from './test-database';

export default async function globalTeardown(): Promise<void> {
  const runId = process.env[TEST_ENV.runId];
  if (runId) {
    await withAdminClient(testServer(), async (client) => {
      const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${TEST_DB_PREFIX}${runId}_%`]);
      for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(datname)} WITH (FORCE)`);
    });
  }
  await globalThis.__EMBEDDED_TEST_POSTGRES__?.stop();
}
