/**
 * Webhook delivery throughput and lag: 1 and 3 replicas sending the change feed to N subscriptions on
 * a local receiver, against a floor measured in the same run — per subscription, a serial loop that
 * signs each event (standardwebhooks), POSTs it over a keep-alive connection and records it with one
 * UPDATE: the least work an ordered, recorded delivery takes. Deliveries per subscription are serial
 * by design (feed order), so throughput grows with subscriptions, not with replicas.
 * Usage: npm run bench:webhooks -- [--events 2000] [--subscriptions 1,4] [--replicas 1,3] [--no-build]
 */
import { createServer, Agent, request, type Server as HttpServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { Webhook } from 'standardwebhooks';
import { listFlag, numberFlag } from './lib/args';
import { benchServer, dropDatabase, freshDatabase, migrate, serviceDatabaseEnv, withClient, type Server } from './lib/database';
import { ms, printTable, saveResults } from './lib/report';
import { BenchService, buildService, cpuMicros } from './lib/service';

const EVENTS = numberFlag('events', 2_000);
const SUBSCRIPTIONS = listFlag('subscriptions', ['1', '4']).map(Number);
const REPLICAS = listFlag('replicas', ['1', '3']).map(Number);
const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

/** Counts deliveries per path and the lag of each (receipt − the event's occurred_at). */
class Receiver {
  readonly counts = new Map<string, number>();
  readonly lags: number[] = [];
  private server?: HttpServer;

  async start(): Promise<number> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.counts.set(req.url ?? '/', (this.counts.get(req.url ?? '/') ?? 0) + 1);
        const occurred = JSON.parse(Buffer.concat(chunks).toString()).occurred_at as string | undefined;
        if (occurred) this.lags.push(Date.now() - Date.parse(occurred));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server!.address() as { port: number }).port;
  }

  total(): number {
    return [...this.counts.values()].reduce((sum, n) => sum + n, 0);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))] ?? 0;

async function insertEvents(server: Server, database: string): Promise<void> {
  await withClient(server, database, async (client) => {
    for (let done = 0; done < EVENTS; done += 100) {
      await client.query(`INSERT INTO models (name, task, subject) SELECT 'bench-' || $1 || '-' || n, 'generation', 'general' FROM generate_series(1, $2) n`, [done, Math.min(100, EVENTS - done)]);
    }
  });
}

async function measureService(server: Server, replicas: number, subscriptions: number) {
  const database = `mr_bench_webhooks_${replicas}_${subscriptions}`;
  await freshDatabase(server, database);
  await migrate(server, database);
  const receiver = new Receiver();
  const port = await receiver.start();
  const env = { ...serviceDatabaseEnv(server, database), WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_POLL_INTERVAL_MS: '100', RETENTION_ENABLED: 'false', AUTH_REQUIRED: 'false', RATE_LIMIT_PER_MINUTE: '0' };
  const services = await Promise.all(Array.from({ length: replicas }, () => BenchService.start(env)));
  try {
    for (let s = 0; s < subscriptions; s++) await services[s % replicas].post('/webhooks', { url: `http://127.0.0.1:${port}/s${s}`, events: ['*'] });
    const cpuBefore = services.map((service) => cpuMicros(service.pid));
    const started = performance.now();
    await insertEvents(server, database);
    const expected = EVENTS * subscriptions;
    while (receiver.total() < expected) {
      if (performance.now() - started > 600_000) throw new Error(`only ${receiver.total()} of ${expected} deliveries in 10 minutes`);
      await sleep(20);
    }
    const seconds = (performance.now() - started) / 1000;
    await sleep(500);
    if (receiver.total() !== expected) throw new Error(`${receiver.total() - expected} duplicate deliveries`);
    const cpu = services.reduce((sum, service, i) => sum + cpuMicros(service.pid) - cpuBefore[i], 0);
    return { deliveries: expected, perSecond: expected / seconds, p50: percentile(receiver.lags, 50), p99: percentile(receiver.lags, 99), cpuPerDelivery: cpu / expected };
  } finally {
    await Promise.all(services.map((service) => service.stop()));
    await receiver.stop();
    await dropDatabase(server, database);
  }
}

/** The floor: per subscription, sign + POST + one UPDATE per event, serially; subscriptions in parallel. */
async function measureFloor(server: Server, subscriptions: number) {
  const database = 'mr_bench_webhooks_floor';
  await freshDatabase(server, database);
  const receiver = new Receiver();
  const port = await receiver.start();
  const agent = new Agent({ keepAlive: true });
  const webhook = new Webhook(SECRET);
  const clients = await Promise.all(
    Array.from({ length: subscriptions }, async () => {
      const client = new Client({ ...server, database });
      await client.connect();
      return client;
    }),
  );
  try {
    await clients[0].query('CREATE TABLE deliveries (id int PRIMARY KEY, delivered int NOT NULL DEFAULT 0)');
    await clients[0].query('INSERT INTO deliveries SELECT g, 0 FROM generate_series(0, $1) g', [subscriptions]);
    const started = performance.now();
    await Promise.all(
      clients.map(async (client, s) => {
        for (let i = 0; i < EVENTS; i++) {
          const body = JSON.stringify({ id: i, type: 'model.created', occurred_at: new Date().toISOString(), data: {} });
          const id = `evt_${i}`;
          const timestamp = new Date();
          await new Promise<void>((resolve, reject) => {
            const req = request(
              {
                host: '127.0.0.1',
                port,
                path: `/s${s}`,
                method: 'POST',
                agent,
                headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)), 'webhook-signature': webhook.sign(id, timestamp, body) },
              },
              (res) => res.resume().on('end', resolve),
            );
            req.on('error', reject);
            req.end(body);
          });
          await client.query({ name: 'record', text: 'UPDATE deliveries SET delivered = delivered + 1 WHERE id = $1', values: [s] });
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { perSecond: (EVENTS * subscriptions) / seconds, p50: percentile(receiver.lags, 50), p99: percentile(receiver.lags, 99) };
  } finally {
    await Promise.all(clients.map((client) => client.end()));
    agent.destroy();
    await receiver.stop();
    await dropDatabase(server, database);
  }
}

async function main(): Promise<void> {
  if (!process.argv.includes('--no-build')) buildService();
  const { server, stop } = await benchServer();
  const rows: Record<string, string | number>[] = [];
  const results: unknown[] = [];
  try {
    for (const subscriptions of SUBSCRIPTIONS) {
      const floor = await measureFloor(server, subscriptions);
      rows.push({ setup: `floor (serial sign + POST + UPDATE)`, subscriptions, 'deliveries/s': floor.perSecond.toFixed(0), 'vs floor': '1.00', 'lag p50': '', 'lag p99': '', 'CPU/delivery': '' });
      results.push({ subscriptions, floor });
      for (const replicas of REPLICAS) {
        const service = await measureService(server, replicas, subscriptions);
        results.push({ subscriptions, replicas, service });
        rows.push({
          setup: `service, ${replicas} replica${replicas > 1 ? 's' : ''}`,
          subscriptions,
          'deliveries/s': service.perSecond.toFixed(0),
          'vs floor': (service.perSecond / floor.perSecond).toFixed(2),
          'lag p50': ms(service.p50),
          'lag p99': ms(service.p99),
          'CPU/delivery': `${service.cpuPerDelivery.toFixed(0)} µs`,
        });
      }
    }
    printTable(`Webhook deliveries: ${EVENTS} events per subscription, 0 duplicates checked`, rows);
    console.log(`\nresults: ${saveResults('webhooks', { events: EVENTS, results })}`);
  } finally {
    await stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
