import { request } from 'node:http';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { Client } from 'pg';
import { EmbeddedPostgres } from '../src/database/embedded-postgres';
import { createSuiteDatabase, dropDatabase, testServer } from './setup/test-database';
import { makeModel } from './support/factories';
import { OtlpReceiver } from './support/otlp-receiver';
import { freePort, ServiceProcess } from './support/service-process';

const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined } as never;
const dataRoot = path.resolve(__dirname, '..', '.data');
const migrationCount = readdirSync(path.resolve(__dirname, '..', 'migrations')).filter((f) => /^\d+-.*\.ts$/.test(f)).length;

function serverEnv(database: string): Record<string, string> {
  const server = testServer();
  return {
    POSTGRES_HOST: server.host,
    POSTGRES_PORT: String(server.port),
    POSTGRES_USER: server.user,
    POSTGRES_PASSWORD: server.password ?? '',
    POSTGRES_DB: database,
  };
}

describe('the service as a process', () => {
  const services: ServiceProcess[] = [];
  const track = (service: ServiceProcess) => {
    services.push(service);
    return service;
  };
  afterEach(async () => {
    await Promise.all(services.splice(0).map((service) => (service.running ? (service.signal('SIGKILL'), service.exited) : undefined)));
  });

  it('five replicas starting at once on an empty database all become ready; each migration runs once', async () => {
    const database = await createSuiteDatabase('replicas', { empty: true });
    try {
      const replicas = await Promise.all(Array.from({ length: 5 }, () => ServiceProcess.start(serverEnv(database)).then(track)));
      await Promise.all(replicas.map((replica) => replica.waitFor('/health/ready', 200, 90_000)));

      const client = new Client({ ...testServer(), database });
      await client.connect();
      const { rows } = await client.query<{ name: string; n: number }>('SELECT name, count(*)::int AS n FROM schema_migrations GROUP BY name');
      await client.end();
      expect(rows).toHaveLength(migrationCount);
      expect(rows.every((row) => row.n === 1)).toBe(true);

      const applied = (line: Record<string, unknown>) => /^applied \d+ migration/.test(String(line.msg));
      const uptoDate = (line: Record<string, unknown>) => line.msg === 'schema is up to date' || applied(line);
      await Promise.all(replicas.map((replica) => replica.waitForLog(uptoDate)));
      const appliers = replicas.filter((replica) => replica.logs.some(applied));
      expect(appliers).toHaveLength(1);
      expect(await Promise.all(replicas.map((replica) => replica.stop()))).toEqual([0, 0, 0, 0, 0]);
    } finally {
      await dropDatabase(database);
    }
  }, 150_000);

  it('on SIGTERM: readiness turns 503 at once, in-flight requests finish, the process exits 0', async () => {
    const database = await createSuiteDatabase('shutdown');
    try {
      const service = track(await ServiceProcess.start({ ...serverEnv(database), SHUTDOWN_DRAIN_MS: '1500' }));
      await service.waitFor('/health/ready', 200, 20_000);

      // A request whose body is still arriving when the signal comes.
      const body = JSON.stringify(makeModel());
      const inFlight = new Promise<number>((resolve, reject) => {
        const req = request(service.url('/models'), { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.write(body.slice(0, 10));
        setTimeout(() => req.end(body.slice(10)), 2_500);
      });
      await sleep(200);
      service.signal('SIGTERM');
      await service.waitFor('/health/ready', 503, 1_000);
      expect(await service.status('/health/live')).toBe(200);

      expect(await inFlight).toBe(201);
      expect(await service.exited).toBe(0);
      expect(service.logs.some((line) => line.msg === 'shutdown complete')).toBe(true);
    } finally {
      await dropDatabase(database);
    }
  });

  it('while PostgreSQL is down: live stays 200, ready is 503 within 5 s and 200 again within 10 s of its return', async () => {
    const port = await freePort();
    const dataDir = path.join(dataRoot, 'test-outage-postgres');
    const settings = { dataDir, port, user: 'postgres', password: 'postgres', databases: ['outage'], logger: quiet };
    let postgres = new EmbeddedPostgres(settings);
    await postgres.start();
    try {
      const service = track(
        await ServiceProcess.start({ POSTGRES_HOST: '127.0.0.1', POSTGRES_PORT: String(port), POSTGRES_PASSWORD: 'postgres', POSTGRES_DB: 'outage', HEALTH_DB_TIMEOUT_MS: '1000' }),
      );
      await service.waitFor('/health/ready', 200, 20_000);

      await postgres.stop();
      expect(await service.waitFor('/health/ready', 503, 5_000)).toBeLessThan(5_000);
      expect(await service.status('/health/live')).toBe(200);
      const apiCall = await service.fetch(service.url('/models'));
      expect(apiCall.status).toBe(503);
      expect(apiCall.headers.get('content-type')).toMatch(/problem\+json/);
      expect(await apiCall.text()).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);

      postgres = new EmbeddedPostgres(settings);
      await postgres.start();
      expect(await service.waitFor('/health/ready', 200, 10_000)).toBeLessThan(10_000);
      expect(service.running).toBe(true);
      expect(await service.stop()).toBe(0);
    } finally {
      await postgres.stop();
    }
  });

  it('zero-setup: runs its own PostgreSQL, keeps data across restarts, and recovers from being killed', async () => {
    const dataDir = path.join(dataRoot, `test-embedded-${process.pid}`);
    rmSync(dataDir, { recursive: true, force: true });
    const env = { EMBEDDED_POSTGRES_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(await freePort()) };
    try {
      const first = track(await ServiceProcess.start(env));
      await first.waitFor('/health/ready', 200, 30_000);
      const model = makeModel();
      const created = await first.fetch(first.url('/models'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(model) });
      expect(created.status).toBe(201);

      // SIGKILL leaves the embedded postgres running without its parent.
      first.signal('SIGKILL');
      await first.exited;

      const second = track(await ServiceProcess.start(env));
      await second.waitFor('/health/ready', 200, 30_000);
      expect(await second.waitForLog((line) => String(line.msg).includes('orphaned embedded PostgreSQL'))).toBeDefined();
      const read = await second.fetch(second.url(`/models/name/${model.name}`));
      expect(read.status).toBe(200);
      expect(await second.stop()).toBe(0);

      const third = track(await ServiceProcess.start(env));
      await third.waitFor('/health/ready', 200, 30_000);
      expect(third.logs.some((line) => String(line.msg).includes('orphaned'))).toBe(false);
      expect((await third.fetch(third.url(`/models/name/${model.name}`))).status).toBe(200);
      expect(await third.stop()).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('three replicas sharing scheduled retention slots run each slot exactly once, and one run does the work', async () => {
    const database = await createSuiteDatabase('schedule');
    const client = new Client({ ...testServer(), database });
    await client.connect();
    try {
      await client.query(`
        INSERT INTO models (name, task, subject) VALUES ('scheduled-model', 'generation', 'general');
        INSERT INTO model_versions (model_id, hash, version, version_sort_key, created_at)
          SELECT m.id, md5(n::text) || md5(n::text), '1.0.' || n, lpad(n::text, 20, '0'), now() - (n || ' minutes')::interval
            FROM models m CROSS JOIN generate_series(1, 6) n;`);
      // A slot every 4 seconds: whatever the replicas' start-up time, several slots pass while all three
      // are up, and each slot must be run exactly once, by one of them.
      const replicas = await Promise.all(
        Array.from({ length: 3 }, () => ServiceProcess.start({ ...serverEnv(database), RETENTION_ENABLED: 'true', RETENTION_CRON: '*/4 * * * * *' }).then(track)),
      );
      await Promise.all(replicas.map((replica) => replica.waitFor('/health/ready', 200, 90_000)));
      const allUp = Date.now();
      let rows: { trigger: string; scheduled_for: Date; status: string; archived_count: number }[] = [];
      for (let waited = 0; waited < 20_000; waited += 250) {
        await sleep(250);
        ({ rows } = await client.query('SELECT trigger, scheduled_for, status, archived_count FROM retention_runs ORDER BY scheduled_for'));
        // Two slots after all three were up, each finished.
        if (rows.filter((row) => row.scheduled_for.getTime() > allUp && row.status !== 'running').length >= 2) break;
      }
      const slots = rows.map((row) => row.scheduled_for.getTime());
      expect(rows.filter((row) => row.scheduled_for.getTime() > allUp).length).toBeGreaterThanOrEqual(2);
      expect(new Set(slots).size).toBe(slots.length);
      expect(rows.every((row) => row.trigger === 'scheduled' && row.status === 'succeeded')).toBe(true);
      // The first run archived the three versions beyond the retention count; the others found nothing to do.
      expect(rows.map((row) => row.archived_count).reduce((sum, n) => sum + n, 0)).toBe(3);
      expect(replicas.every((replica) => replica.running)).toBe(true);
      expect(await Promise.all(replicas.map((replica) => replica.stop()))).toEqual([0, 0, 0]);
    } finally {
      await client.end();
      await dropDatabase(database);
    }
  }, 150_000);

  it('exports traces over OTLP: the request span with its request id and route, the handler and query spans, and the trace id in the log', async () => {
    const receiver = new OtlpReceiver();
    await receiver.start();
    const database = await createSuiteDatabase('tracing');
    try {
      const service = track(
        await ServiceProcess.start({ ...serverEnv(database), OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.port}`, OTEL_BSP_SCHEDULE_DELAY: '100' }),
      );
      await service.waitFor('/health/ready', 200, 20_000);
      const created = await service.fetch(service.url('/models'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(makeModel()) });
      const { id } = (await created.json()) as { id: number };
      expect((await service.fetch(service.url(`/models/${id}`), { headers: { 'x-request-id': 'trace-me-42' } })).status).toBe(200);

      let server: (typeof receiver.spans)[number] | undefined;
      for (let waited = 0; !server && waited < 10_000; waited += 100) {
        await sleep(100);
        server = receiver.spans.find((span) => span.attributes['http.request.id'] === 'trace-me-42');
      }
      expect(server).toMatchObject({ name: 'GET /models/:id', kind: 2, attributes: { 'http.route': '/models/:id' } });
      const trace = receiver.spans.filter((span) => span.traceId === server!.traceId);
      const handler = trace.find((span) => span.name === 'ModelsController.getModel');
      expect(handler?.parentSpanId).toBe(server!.spanId);
      const queries = trace.filter((span) => span.attributes['db.system.name'] === 'postgresql' || span.attributes['db.system'] === 'postgresql');
      expect(queries.length).toBeGreaterThan(0);
      // The route is served directly (@Direct()): its query still runs inside the handler span.
      expect(queries.map((span) => span.parentSpanId)).toContain(handler!.spanId);

      const logLine = await service.waitForLog((line) => line.request_id === 'trace-me-42' && line.msg === 'request completed');
      expect(logLine).toMatchObject({ route: '/models/:id', status: 200, trace_id: server!.traceId });
      expect(await service.stop()).toBe(0);
    } finally {
      await receiver.stop();
      await dropDatabase(database);
    }
  });

  it('built by tsc, as production runs it, serves exactly the committed openapi.json', async () => {
    const database = await createSuiteDatabase('openapi');
    try {
      const service = track(await ServiceProcess.start(serverEnv(database)));
      await service.waitFor('/health/ready', 200, 20_000);
      const served = (await (await fetch(service.url('/docs-json'))).json()) as unknown;
      expect(served).toEqual(JSON.parse(readFileSync(path.resolve(__dirname, '..', 'openapi.json'), 'utf8')));
      expect(await service.stop()).toBe(0);
    } finally {
      await dropDatabase(database);
    }
  });

  it('refuses to start with invalid configuration, naming every bad variable', async () => {
    const service = track(await ServiceProcess.start({ PORT_IGNORED: '1', DB_POOL_SIZE: 'lots', DEFAULT_RETENTION_COUNT: '0', POSTGRES_HOST: '127.0.0.1' }));
    expect(await service.exited).not.toBe(0);
    const text = service.logs.map((line) => String(line.msg)).join('\n');
    expect(text).toContain('DB_POOL_SIZE must be');
    expect(text).toContain('DEFAULT_RETENTION_COUNT must be');
  });
});
