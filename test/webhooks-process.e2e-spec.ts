import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { createSuiteDatabase, dropDatabase, testServer } from './setup/test-database';
import { makeModel } from './support/factories';
import { parsePrometheus, sampleValue } from './support/prometheus';
import { ServiceProcess } from './support/service-process';
import { verifySignature, WebhookReceiver, type ReceivedRequest } from './support/webhook-receiver';

function serviceEnv(database: string, extra: Record<string, string> = {}): Record<string, string> {
  const server = testServer();
  return {
    POSTGRES_HOST: server.host,
    POSTGRES_PORT: String(server.port),
    POSTGRES_USER: server.user,
    POSTGRES_PASSWORD: server.password ?? '',
    POSTGRES_DB: database,
    AUTH_REQUIRED: 'false',
    RATE_LIMIT_PER_MINUTE: '0',
    RETENTION_ENABLED: 'false',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOK_POLL_INTERVAL_MS: '100',
    ...extra,
  };
}

async function post<T = Record<string, any>>(service: ServiceProcess, path: string, body: object): Promise<T> {
  const response = await fetch(service.url(path), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (response.status !== 201) throw new Error(`POST ${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

const idOf = (request: ReceivedRequest) => String(request.headers['webhook-id']);

// Processes start slowly on a busy 2-core machine; the work itself takes seconds.
jest.setTimeout(180_000);

describe('webhooks across processes', () => {
  const services: ServiceProcess[] = [];
  const track = (service: ServiceProcess) => {
    services.push(service);
    return service;
  };
  let receiver: WebhookReceiver;
  let database: string;
  let db: Client;

  beforeEach(async () => {
    receiver = await new WebhookReceiver().start();
  });
  afterEach(async () => {
    await Promise.all(services.splice(0).map((service) => (service.running ? (service.signal('SIGKILL'), service.exited) : undefined)));
    await receiver.close();
    await db?.end();
    if (database) await dropDatabase(database);
  });

  async function openDatabase(label: string): Promise<void> {
    database = await createSuiteDatabase(label);
    db = new Client({ ...testServer(), database });
    await db.connect();
  }

  it('a delivery in progress when its process is SIGKILLed is sent again by another, with the same webhook-id, before the next event', async () => {
    await openDatabase('webhook-sigkill');
    // The first request is held open (never answered) until the sender dies.
    let hold = true;
    receiver.reply = () => (hold ? { status: 200, delayMs: Infinity } : { status: 204 });
    const env = serviceEnv(database, { WEBHOOK_TIMEOUT_MS: '2000', WEBHOOK_LEASE_MS: '3000' });
    const first = track(await ServiceProcess.start(env));
    await first.waitFor('/health/ready', 200, 60_000);
    const hook = await post<{ id: number; secret: string }>(first, '/webhooks', { url: receiver.url('/kill'), events: ['*'] });
    const model = await post(first, '/models', makeModel());
    await receiver.waitFor(() => receiver.requests.length === 1, 30_000, 'the first delivery');
    first.signal('SIGKILL');
    await first.exited;
    hold = false;
    // Written while no service runs: it waits in the feed behind the interrupted delivery.
    await db.query(`INSERT INTO models (name, task, subject) VALUES ('after-the-crash', 'generation', 'general')`);

    const second = track(await ServiceProcess.start(env));
    await receiver.waitFor(() => receiver.requests.length >= 3, 60_000, 'the redelivery and the next event');
    await sleep(500);
    const events = (await db.query<{ id: number }>('SELECT id FROM events ORDER BY tx_id, id')).rows.map((row) => `evt_${row.id}`);
    expect(events).toHaveLength(2);
    expect(receiver.requests.map(idOf)).toEqual([events[0], events[0], events[1]]);
    for (const request of receiver.requests) expect(verifySignature(hook.secret, request)).toMatchObject({ type: 'model.created' });
    expect(JSON.parse(receiver.requests[1].body)).toMatchObject({ model_id: model.id });
    const log = (await db.query('SELECT message_id, status, attempts FROM webhook_deliveries ORDER BY id')).rows;
    expect(log).toEqual([
      { message_id: events[0], status: 'delivered', attempts: 2 },
      { message_id: events[1], status: 'delivered', attempts: 1 },
    ]);
    expect(await second.stop()).toBe(0);
  });

  it('three replicas deliver 1,000 events to each of three subscriptions: 0 duplicates, 0 lost, in feed order', async () => {
    await openDatabase('webhook-replicas');
    const replicas = await Promise.all(Array.from({ length: 3 }, () => ServiceProcess.start(serviceEnv(database)).then(track)));
    await Promise.all(replicas.map((replica) => replica.waitFor('/health/ready', 200, 60_000)));
    const paths = ['/r0', '/r1', '/r2'];
    const hooks = await Promise.all(paths.map((path, i) => post<{ id: number; secret: string }>(replicas[i], '/webhooks', { url: receiver.url(path), events: ['*'] })));

    // 1,000 changes in 40 transactions from 4 connections at once.
    const writers = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const client = new Client({ ...testServer(), database });
        await client.connect();
        return client;
      }),
    );
    try {
      await Promise.all(
        writers.map(async (client, w) => {
          for (let t = 0; t < 10; t++) {
            await client.query(
              `INSERT INTO models (name, task, subject) SELECT 'bulk-' || $1 || '-' || $2 || '-' || n, 'generation', 'general' FROM generate_series(1, 25) n`,
              [w, t],
            );
          }
        }),
      );
    } finally {
      await Promise.all(writers.map((client) => client.end()));
    }
    const feed = (await db.query<{ id: number }>('SELECT id FROM events ORDER BY tx_id, id')).rows.map((row) => `evt_${row.id}`);
    expect(feed).toHaveLength(1000);

    await receiver.waitFor(() => paths.every((path) => receiver.on(path).length >= 1000), 120_000, '1,000 deliveries on each path');
    await sleep(1_000);
    for (const [i, path] of paths.entries()) {
      const requests = receiver.on(path);
      expect({ path, received: requests.length, distinct: new Set(requests.map(idOf)).size }).toEqual({ path, received: 1000, distinct: 1000 });
      expect(requests.map(idOf)).toEqual(feed);
      for (const request of requests) verifySignature(hooks[i].secret, request);
    }
    const delivered = await Promise.all(
      replicas.map(async (replica) => sampleValue(parsePrometheus(await (await fetch(replica.url('/metrics'))).text()), 'webhook_deliveries_total', { outcome: 'delivered' }) ?? 0),
    );
    expect(delivered.reduce((sum, n) => sum + n, 0)).toBe(3000);
    expect(await Promise.all(replicas.map((replica) => replica.stop()))).toEqual([0, 0, 0]);
  });
});
