/**
 * Coherence and push: how fast a change reaches another replica's resolve cache and the push stream's
 * subscribers, against a raw LISTEN client on the same database (the least any replica can do). Usage:
 *   npm run bench:feed -- [--changes 1000] [--subscribers 1000] [--events 200] [--interval 50] [--no-build]
 *
 * 1. Staleness: replicas A and B (resolve cache on). Each change moves a model's `production` alias
 *    through A; the clock starts when A answers (committed) and stops when resolve on B shows it.
 *    Floor: when the raw LISTEN client hears the change's notification.
 * 2. Fan-out: `subscribers` open GET /events/stream on B; `events` models are created through A, one
 *    every `interval` ms. One subscriber in 50 parses and timestamps every message (lag = arrival − A's
 *    answer); the others only count theirs, so the bench's own CPU does not become the lag it measures.
 *    B's RSS before, with the subscribers connected, and after; the stream's database reads for all.
 */
import { request as httpRequest, type ClientRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { SseClient } from '../test/support/sse-client';
import { flag, numberFlag } from './lib/args';
import { benchServer, freshDatabase, migrate, serviceDatabaseEnv } from './lib/database';
import { mb, ms, printTable, saveResults } from './lib/report';
import { BenchService, buildService, rssBytes } from './lib/service';

const CHANGES = numberFlag('changes', 1_000);
const SUBSCRIBERS = numberFlag('subscribers', 1_000);
const EVENTS = numberFlag('events', 200);
const INTERVAL_MS = numberFlag('interval', 50);
const DATABASE = 'mr_bench_feed';
const PROBE_EVERY = 50;

const percentile = (values: number[], p: number) => [...values].sort((x, y) => x - y)[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)] ?? NaN;
const summary = (values: number[]) => ({ p50: percentile(values, 50), p99: percentile(values, 99), max: values.reduce((a, b) => Math.max(a, b), -Infinity) });

async function call<T = any>(service: BenchService, method: string, pathname: string, body?: unknown): Promise<T> {
  const response = await fetch(service.url(pathname), { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  if (response.status >= 300) throw new Error(`${method} ${pathname}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** A sample from the service's /metrics; `label` (e.g. `result="hit"`) picks one series. */
const metric = async (service: BenchService, name: string, label = '') => {
  const text = await (await fetch(service.url('/metrics'))).text();
  const line = text.split('\n').find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(label));
  return Number(line?.slice(line.lastIndexOf(' ') + 1) ?? NaN);
};

/** A subscriber that only counts messages (each starts with an `id:` line right after a blank line). */
class SseSink {
  messages = 0;
  private tail = '';
  private constructor(private readonly request: ClientRequest) {}

  static open(url: string): Promise<SseSink> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const text = sink.tail + chunk;
          for (let at = text.indexOf('\nid: '); at >= 0; at = text.indexOf('\nid: ', at + 1)) sink.messages++;
          // Shorter than the marker, so no match is counted twice.
          sink.tail = text.slice(-4);
        });
        resolve(sink);
      });
      const sink = new SseSink(req);
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.request.destroy();
  }
}

/** A raw LISTEN client: when each notification naming a model arrived (performance.now()). */
async function listenFloor(env: Record<string, string>) {
  const client = new Client({ host: env.POSTGRES_HOST, port: Number(env.POSTGRES_PORT), user: env.POSTGRES_USER, password: env.POSTGRES_PASSWORD || undefined, database: env.POSTGRES_DB });
  await client.connect();
  const heard = new Map<number, number>();
  client.on('notification', (message) => {
    const at = performance.now();
    for (const id of (message.payload ?? '').split(',').map(Number)) if (!heard.has(id)) heard.set(id, at);
  });
  await client.query('LISTEN registry_changes');
  return { heard, close: () => client.end() };
}

async function main(): Promise<void> {
  if (flag('no-build') === undefined) buildService();
  const { server, stop } = await benchServer();
  const services: BenchService[] = [];
  try {
    await freshDatabase(server, DATABASE);
    await migrate(server, DATABASE);
    const env = { ...serviceDatabaseEnv(server, DATABASE), RETENTION_ENABLED: 'false', RESOLVE_CACHE: 'true' };
    const [a, b] = await Promise.all([BenchService.start(env), BenchService.start(env)]);
    services.push(a, b);
    while ((await metric(b, 'events_notifications_connected')) !== 1) await sleep(50);
    const floor = await listenFloor(env);

    // 1. Staleness across replicas.
    const model = await call(a, 'POST', '/models', { name: 'bench-coherence', task: 'generation' });
    const versions = [];
    for (const version of ['1.0.0', '1.1.0']) {
      const created = await call(a, 'POST', '/versions', { model_id: model.id, version, hash: version.replace(/\./g, '').padStart(64, 'c') });
      await call(a, 'POST', '/bindings', { version_id: created.id, provider: 'openai', provider_model_id: `pm-${version}`, status: 'active' });
      versions.push(created);
    }
    await call(a, 'PUT', `/models/${model.id}/aliases/production`, { version_id: versions[0].id });
    const staleness: number[] = [];
    const notified: number[] = [];
    const hitsBefore = await metric(b, 'resolve_cache_requests_total', 'result="hit"');
    for (let i = 0; i < CHANGES; i++) {
      const target = versions[(i + 1) % 2];
      floor.heard.delete(model.id);
      await call(a, 'PUT', `/models/${model.id}/aliases/production`, { version_id: target.id });
      const committed = performance.now();
      while ((await call(b, 'GET', `/resolve/${model.name}`)).version.id !== target.id);
      staleness.push(performance.now() - committed);
      while (!floor.heard.has(model.id)) await sleep(1);
      notified.push(Math.max(0, floor.heard.get(model.id)! - committed));
      await call(b, 'GET', `/resolve/${model.name}`);
    }
    const hits = (await metric(b, 'resolve_cache_requests_total', 'result="hit"')) - hitsBefore;
    const s = summary(staleness);
    const f = summary(notified);
    printTable(`Staleness: ${CHANGES} changes through replica A, resolve on replica B (cache on; ${hits} cache hits on B)`, [
      { measure: 'change seen by resolve on B', p50: ms(s.p50), p99: ms(s.p99), max: ms(s.max) },
      { measure: 'floor: NOTIFY heard by a raw LISTEN client', p50: ms(f.p50), p99: ms(f.p99), max: ms(f.max) },
    ]);

    // 2. Fan-out to SUBSCRIBERS streams: every PROBE_EVERY-th one parses and timestamps each message;
    // the others only count messages, so that the bench's own CPU does not become the lag it measures.
    const rssIdle = rssBytes(b.pid);
    const readsBefore = await metric(b, 'events_stream_reads_total');
    const url = b.url('/events/stream?type=model.created');
    const probes: SseClient[] = [];
    const sinks: SseSink[] = [];
    for (let i = 0; i < SUBSCRIBERS; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, SUBSCRIBERS - i) }, async (_, j) => {
          if ((i + j) % PROBE_EVERY === 0) probes.push(await SseClient.open(url));
          else sinks.push(await SseSink.open(url));
        }),
      );
    }
    await Promise.all(probes.map((client) => client.waitFor((c) => c.comments.length > 0, 30_000)));
    await sleep(1_000);
    const rssConnected = rssBytes(b.pid);
    /** When A answered, on both clocks: SSE arrivals are wall-clock (Date.now), the floor's performance.now. */
    const committedAt = new Map<number, { wall: number; perf: number }>();
    let rssPeak = rssConnected;
    floor.heard.clear();
    for (let i = 0; i < EVENTS; i++) {
      const created = await call(a, 'POST', '/models', { name: `bench-fanout-${Date.now().toString(36)}-${i}`, task: 'generation' });
      committedAt.set(created.id, { wall: Date.now(), perf: performance.now() });
      rssPeak = Math.max(rssPeak, rssBytes(b.pid));
      await sleep(INTERVAL_MS);
    }
    const allDelivered = () => probes.every((c) => c.messages.length >= EVENTS) && sinks.every((sink) => sink.messages >= EVENTS);
    for (let waited = 0; !allDelivered() && waited < 60_000; waited += 50) await sleep(50);
    const rssAfter = rssBytes(b.pid);
    const reads = (await metric(b, 'events_stream_reads_total')) - readsBefore;
    const lags: number[] = [];
    for (const client of probes) {
      for (const message of client.messages) {
        const event = JSON.parse(message.data) as { model_id: number };
        lags.push(message.at - committedAt.get(event.model_id)!.wall);
      }
    }
    const exactlyOnce = probes.every((client) => client.messages.length === EVENTS && new Set(client.ids).size === EVENTS) && sinks.every((sink) => sink.messages === EVENTS);
    const floorLags = [...committedAt].map(([id, at]) => floor.heard.get(id)! - at.perf);
    for (const client of probes) client.close();
    for (const sink of sinks) sink.close();
    const d = summary(lags);
    const fl = summary(floorLags.map((lag) => Math.max(0, lag)));
    printTable(`Fan-out: ${SUBSCRIBERS} subscribers on replica B, ${EVENTS} changes through A every ${INTERVAL_MS} ms (each delivered exactly once to every subscriber: ${exactlyOnce})`, [
      { measure: `delivery lag at ${probes.length} probes spread among them`, p50: ms(d.p50), p99: ms(d.p99), max: ms(d.max) },
      { measure: 'floor: NOTIFY heard by a raw LISTEN client', p50: ms(fl.p50), p99: ms(fl.p99), max: ms(fl.max) },
    ]);
    printTable(`Replica B's memory and database reads`, [
      {
        'RSS idle': mb(rssIdle),
        [`with ${SUBSCRIBERS} subscribers`]: mb(rssConnected),
        'per subscriber': `${((rssConnected - rssIdle) / 1024 / SUBSCRIBERS).toFixed(1)} KB`,
        'peak during events': mb(rssPeak),
        after: mb(rssAfter),
        'stream reads for all events': reads,
      },
    ]);
    console.log(
      `\nSaved ${saveResults('feed', {
        changes: CHANGES,
        subscribers: SUBSCRIBERS,
        events: EVENTS,
        staleness: s,
        staleness_floor: f,
        cache_hits: hits,
        delivery: d,
        delivery_floor: fl,
        exactly_once: exactlyOnce,
        rss: { idle: rssIdle, connected: rssConnected, peak: rssPeak, after: rssAfter },
        stream_reads: reads,
      })}`,
    );
    await floor.close();
  } finally {
    for (const service of services) await service.stop();
    await stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
