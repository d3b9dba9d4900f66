import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { openDedicatedClient } from '../src/database/dedicated-client';
import { createSuiteDatabase, dropDatabase, testServer } from './setup/test-database';
import { makeModel } from './support/factories';
import { PgBouncer } from './support/pgbouncer';
import { ServiceProcess } from './support/service-process';
import { createTestApp, routeTestApps } from './support/test-app';

const migrationCount = readdirSync(path.resolve(__dirname, '..', 'migrations')).filter((f) => /^\d+-.*\.ts$/.test(f)).length;

/**
 * Debian's PgBouncer (1.18) in transaction pooling mode: consecutive statements of one client may run
 * on different server sessions, and named prepared statements are not supported. The service runs
 * behind it with DB_PREPARED_STATEMENTS=false and POSTGRES_DIRECT_* pointing at PostgreSQL itself for
 * what needs a session. These tests fail (they never skip) when pgbouncer is not installed.
 */
describe('through PgBouncer in transaction pooling mode', () => {
  let pgbouncer: PgBouncer;

  beforeAll(async () => {
    pgbouncer = await PgBouncer.start(testServer());
    routeTestApps(pgbouncer.serviceEnv);
  });

  afterAll(async () => {
    routeTestApps();
    await pgbouncer?.stop();
  });

  /** A client of PgBouncer's admin console (simple protocol only). */
  async function adminQuery<T>(sql: string): Promise<T[]> {
    const admin = new Client({ host: '127.0.0.1', port: pgbouncer.port, user: testServer().user, password: testServer().password, database: 'pgbouncer' });
    await admin.connect();
    try {
      return (await admin.query(sql)).rows as T[];
    } finally {
      await admin.end();
    }
  }

  describe('the trap and the routing', () => {
    it('a named prepared statement fails once the client lands on another server session (why DB_PREPARED_STATEMENTS exists)', async () => {
      const database = await createSuiteDatabase('pgbouncer_named');
      const connect = async () => {
        const client = new Client({ host: '127.0.0.1', port: pgbouncer.port, user: testServer().user, password: testServer().password, database });
        await client.connect();
        return client;
      };
      const [a, b] = [await connect(), await connect()];
      try {
        await a.query({ name: 'answer', text: 'SELECT 42 AS n' });
        // B's open transaction holds the server session A prepared on (PgBouncer reuses it first),
        // so A's next execution runs on a fresh session that never saw the statement.
        await b.query('BEGIN');
        await expect(a.query({ name: 'answer', text: 'SELECT 42 AS n' })).rejects.toMatchObject({ code: '26000' });
        await b.query('COMMIT');
        // Unnamed statements work whichever session runs them.
        expect((await a.query('SELECT $1::int AS n', [7])).rows).toEqual([{ n: 7 }]);
      } finally {
        await a.end();
        await b.end();
        await dropDatabase(database);
      }
    });

    it('the pool goes through PgBouncer; dedicated sessions (locks, LISTEN) go straight to PostgreSQL', async () => {
      const sut = await createTestApp('pgbouncer_routing');
      try {
        expect((await sut.http.post('/models').send(makeModel())).status).toBe(201);
        const dataSource = sut.app.get(DataSource);

        const servers = await adminQuery<{ database: string; local_port: string }>('SHOW SERVERS');
        const pgbouncerSessions = new Set(servers.filter((s) => s.database === sut.database).map((s) => Number(s.local_port)));
        const [pooled] = await dataSource.query<{ port: number }[]>('SELECT inet_client_port() AS port');
        expect(pgbouncerSessions.has(pooled.port)).toBe(true);

        const dedicated = await openDedicatedClient(dataSource, 'probe');
        try {
          const { rows } = await dedicated.query<{ port: number; name: string }>(
            'SELECT inet_client_port() AS port, application_name AS name FROM pg_stat_activity WHERE pid = pg_backend_pid()',
          );
          const localPort = (dedicated as unknown as { connection: { stream: { localPort: number } } }).connection.stream.localPort;
          expect(rows).toEqual([{ port: localPort, name: 'model-registry:probe' }]);
          const clients = await adminQuery<{ application_name: string }>('SHOW CLIENTS');
          expect(clients.some((client) => client.application_name === 'model-registry:probe')).toBe(false);
          expect(clients.some((client) => client.application_name === 'model-registry')).toBe(true);
        } finally {
          await dedicated.end();
        }
      } finally {
        await sut.close();
      }
    });

    it('two service processes migrate an empty database once through it, become ready, serve, and warn that statement_timeout needs a server setting', async () => {
      const database = await createSuiteDatabase('pgbouncer_process', { empty: true });
      const server = testServer();
      const env = {
        ...pgbouncer.serviceEnv,
        POSTGRES_USER: server.user,
        POSTGRES_PASSWORD: server.password ?? '',
        POSTGRES_DB: database,
        AUTH_REQUIRED: 'false',
        RATE_LIMIT_PER_MINUTE: '0',
      };
      const replicas = await Promise.all([ServiceProcess.start(env), ServiceProcess.start(env)]);
      try {
        await Promise.all(replicas.map((replica) => replica.waitFor('/health/ready', 200, 60_000)));
        const created = await fetch(replicas[0].url('/models'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(makeModel()) });
        expect(created.status).toBe(201);
        const { id } = (await created.json()) as { id: number };
        expect((await fetch(replicas[1].url(`/models/${id}`))).status).toBe(200);

        const client = new Client({ ...server, database });
        await client.connect();
        const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
        await client.end();
        expect(rows).toEqual([{ n: migrationCount }]);

        const warning = await replicas[0].waitForLog((line) => String(line.msg).includes('not DB_STATEMENT_TIMEOUT_MS'));
        expect(warning).toMatchObject({ configured_ms: 15_000, effective_ms: 0 });
        expect(await Promise.all(replicas.map((replica) => replica.stop()))).toEqual([0, 0]);
      } finally {
        await Promise.all(replicas.map((replica) => (replica.running ? (replica.signal('SIGKILL'), replica.exited) : undefined)));
        await dropDatabase(database);
      }
    }, 120_000);

    it('behind a stock PgBouncer that refuses statement_timeout as a startup parameter: connects without it, says so, and serves', async () => {
      const stock = await PgBouncer.start(testServer(), { ignoreStatementTimeout: false });
      const database = await createSuiteDatabase('pgbouncer_stock', { empty: true });
      const server = testServer();
      const refused = await new Client({ host: '127.0.0.1', port: stock.port, user: server.user, password: server.password, database, statement_timeout: 1_000 })
        .connect()
        .then(() => 'connected', (error: Error & { code?: string }) => `${error.code}: ${error.message}`);
      expect(refused).toMatch(/^08P01: unsupported startup parameter.*statement_timeout/);
      const replica = await ServiceProcess.start({
        ...stock.serviceEnv,
        POSTGRES_USER: server.user,
        POSTGRES_PASSWORD: server.password ?? '',
        POSTGRES_DB: database,
        AUTH_REQUIRED: 'false',
        RATE_LIMIT_PER_MINUTE: '0',
      });
      try {
        await replica.waitFor('/health/ready', 200, 60_000);
        const created = await fetch(replica.url('/models'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(makeModel()) });
        expect(created.status).toBe(201);
        await replica.waitForLog((line) => String(line.msg).includes('refuses statement_timeout as a startup parameter'));
        expect(await replica.waitForLog((line) => String(line.msg).includes('not DB_STATEMENT_TIMEOUT_MS'))).toMatchObject({ configured_ms: 15_000, effective_ms: 0 });
        expect(await replica.stop()).toBe(0);
      } finally {
        if (replica.running) {
          replica.signal('SIGKILL');
          await replica.exited;
        }
        await dropDatabase(database);
        await stock.stop();
      }
    }, 120_000);
  });

  // The same suites that run straight against PostgreSQL, every app now behind PgBouncer: a spec's
  // describe blocks register where its file is loaded, so requiring it here nests them in this block.
  /* eslint-disable @typescript-eslint/no-require-imports */
  describe('version registration, including the concurrent races', () => {
    require('./versions.e2e-spec');
  });
  describe('retention, its cluster-wide lock included', () => {
    require('./retention.e2e-spec');
  });
  describe('resolve', () => {
    require('./resolve.e2e-spec');
  });
  describe('the change feed', () => {
    require('./events.e2e-spec');
  });
  /* eslint-enable @typescript-eslint/no-require-imports */
});
