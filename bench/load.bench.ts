/**
 * Load: the service against the raw floor (node:http + pg, same SQL, named statements), endpoint by
 * endpoint, at fixed connection counts, driven by autocannon from this process. Usage:
 *   npm run bench:load -- [--models 10000] [--versions 20] [--bindings 2] [--duration 10] [--warmup 3]
 *                         [--connections 4,32] [--endpoints resolve,resolve_constrained,resolve_cached,model,model_by_name,versions,create_version,usage,stats]
 *                         [--no-build] [--autocannon (even when wrk is installed)]
 * `resolve` runs against a service with RESOLVE_CACHE=false (every answer read from the database);
 * `resolve_cached` against a second one with the cache on as shipped. Both are compared with the same
 * floor, which has no cache.
 */
import autocannon from 'autocannon';
import { benchServer, freshDatabase, migrate, serviceDatabaseEnv, withClient } from './lib/database';
import { flag, listFlag, numberFlag } from './lib/args';
import { FloorServer } from './lib/floor';
import { ms, printTable, saveResults } from './lib/report';
import { seedCatalog } from './lib/seed';
import { BenchService, buildService, cpuMicros } from './lib/service';
import { runWrk, wrkAvailable } from './lib/wrk';

const MODELS = numberFlag('models', 10_000);
const VERSIONS = numberFlag('versions', 20);
const BINDINGS = numberFlag('bindings', 2);
const DURATION = numberFlag('duration', 10);
const WARMUP = numberFlag('warmup', 3);
const CONNECTIONS = listFlag('connections', ['4', '32']).map(Number);
const DATABASE = 'mr_bench_load';
const USE_WRK = flag('autocannon') === undefined && wrkAvailable();

const random = (n: number) => 1 + Math.floor(Math.random() * n);
const CONSTRAINED_QUERY = 'alias=latest&selector=stage%3Dga,team&binding_selector=region%20in%20(us,eu)&capability=tools&max_input_cost_per_1m=10';
let created = 0;

interface Endpoint {
  name: string;
  /** Served by the instance with the resolve cache on. */
  cached?: boolean;
  request: (target: number) => { method: 'GET' | 'POST'; path: string; body?: string };
  /** The same request for wrk, as the body of a Lua `request` function (N: models, B: bindings, TARGET). */
  lua: string;
}

function endpoints(bindingCount: number): Endpoint[] {
  const json = (value: unknown) => JSON.stringify(value);
  return [
    {
      name: 'resolve',
      request: () => ({ method: 'GET', path: `/resolve/bench-model-${random(MODELS)}` }),
      lua: `return wrk.format('GET', '/resolve/bench-model-' .. math.random(1, N))`,
    },
    {
      // Every constraint issue 15 added: version and binding selectors, a capability and a price cap.
      name: 'resolve_constrained',
      request: () => ({ method: 'GET', path: `/resolve/bench-model-${random(MODELS)}?${CONSTRAINED_QUERY}` }),
      lua: `return wrk.format('GET', '/resolve/bench-model-' .. math.random(1, N) .. '?${CONSTRAINED_QUERY}')`,
    },
    {
      name: 'resolve_cached',
      cached: true,
      request: () => ({ method: 'GET', path: `/resolve/bench-model-${random(MODELS)}` }),
      lua: `return wrk.format('GET', '/resolve/bench-model-' .. math.random(1, N))`,
    },
    { name: 'model', request: () => ({ method: 'GET', path: `/models/${random(MODELS)}` }), lua: `return wrk.format('GET', '/models/' .. math.random(1, N))` },
    {
      name: 'model_by_name',
      request: () => ({ method: 'GET', path: `/models/name/bench-model-${random(MODELS)}` }),
      lua: `return wrk.format('GET', '/models/name/bench-model-' .. math.random(1, N))`,
    },
    {
      name: 'versions',
      request: () => ({ method: 'GET', path: `/versions?model_id=${random(MODELS)}&limit=20` }),
      lua: `return wrk.format('GET', '/versions?model_id=' .. math.random(1, N) .. '&limit=20')`,
    },
    {
      name: 'create_version',
      request: (target) => {
        const n = ++created;
        return {
          method: 'POST',
          path: '/versions',
          body: json({ model_id: random(MODELS), hash: `${target}${n.toString(16)}`.padStart(64, 'a'), version: `9.${n}.${target}`, cost_per_1k: 0.01, eval_score: 0.9 }),
        };
      },
      lua: `local hash = string.rep('b', 40) .. string.format('%04x%020x', TARGET + RUN, counter)
  local body = '{"model_id":' .. math.random(1, N) .. ',"hash":"' .. hash .. '","version":"8.' .. counter .. '.' .. (TARGET + RUN) .. '","cost_per_1k":0.01,"eval_score":0.9}'
  return wrk.format('POST', '/versions', { ['Content-Type'] = 'application/json' }, body)`,
    },
    {
      name: 'usage',
      request: () => ({ method: 'POST', path: `/bindings/${random(bindingCount)}/usage`, body: json({ latency_ms: random(900), success: Math.random() > 0.02 }) }),
      lua: `local body = '{"latency_ms":' .. math.random(1, 900) .. ',"success":' .. (math.random() > 0.02 and 'true' or 'false') .. '}'
  return wrk.format('POST', '/bindings/' .. math.random(1, B) .. '/usage', { ['Content-Type'] = 'application/json' }, body)`,
    },
    { name: 'stats', request: () => ({ method: 'GET', path: '/stats' }), lua: `return wrk.format('GET', '/stats')` },
  ];
}

interface Measured {
  /** CPU the server process used per request, in microseconds. */
  cpuPerRequest?: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

let runs = 0;

/** wrk when installed (less CPU taken from the servers on this 2-core machine), else autocannon. */
async function drive(base: string, endpoint: Endpoint, target: number, connections: number, seconds: number): Promise<Measured> {
  if (USE_WRK) return runWrk(base, endpoint.lua, connections, seconds, { N: MODELS, B: MODELS * VERSIONS * BINDINGS, TARGET: target, RUN: 10 * ++runs });

  const result = await autocannon({
    url: base,
    connections,
    duration: seconds,
    requests: [
      {
        setupRequest: (request) => {
          const next = endpoint.request(target);
          return { ...request, method: next.method, path: next.path, body: next.body, headers: next.body ? { 'content-type': 'application/json' } : {} };
        },
      },
    ],
  });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
}

/** The resolve cache's counters from the service's /metrics. */
async function cacheCounts(service: BenchService): Promise<Record<'hit' | 'miss' | 'bypass', number>> {
  const text = await (await fetch(service.url('/metrics'))).text();
  const count = (result: string) => Number(new RegExp(`^resolve_cache_requests_total\\{result="${result}"[^}]*\\} (\\S+)`, 'm').exec(text)?.[1] ?? 0);
  return { hit: count('hit'), miss: count('miss'), bypass: count('bypass') };
}

async function main(): Promise<void> {
  if (flag('no-build') === undefined) buildService();
  const { server, stop } = await benchServer();
  let service: BenchService | undefined;
  let cachedService: BenchService | undefined;
  let floor: FloorServer | undefined;
  try {
    console.log(`Seeding ${MODELS} models × ${VERSIONS} versions × ${BINDINGS} bindings…`);
    await freshDatabase(server, DATABASE);
    await migrate(server, DATABASE);
    await withClient(server, DATABASE, (client) => seedCatalog(client, { models: MODELS, versionsPerModel: VERSIONS, bindingsPerVersion: BINDINGS }));
    const env = serviceDatabaseEnv(server, DATABASE);
    const bindingCount = MODELS * VERSIONS * BINDINGS;
    const selected = listFlag('endpoints', endpoints(bindingCount).map((e) => e.name));
    service = await BenchService.start({ ...env, RETENTION_ENABLED: 'false', DB_POOL_SIZE: '10', RESOLVE_CACHE: 'false' });
    if (selected.includes('resolve_cached')) cachedService = await BenchService.start({ ...env, RETENTION_ENABLED: 'false', DB_POOL_SIZE: '10', RESOLVE_CACHE: 'true' });
    floor = await FloorServer.start({ ...env, DB_POOL_SIZE: '10' });

    const rows: Record<string, string | number>[] = [];
    const results: unknown[] = [];
    for (const endpoint of endpoints(bindingCount).filter((e) => selected.includes(e.name))) {
      for (const connections of CONNECTIONS) {
        const measured: Record<string, Measured> = {};
        const serving = endpoint.cached ? cachedService! : service;
        let hitRatio: number | undefined;
        for (const [target, name, base, pid] of [
          [1, 'service', serving.url(''), serving.pid],
          [2, 'floor', floor.url(''), floor.pid],
        ] as const) {
          await drive(base, endpoint, target, connections, WARMUP);
          const cpuBefore = cpuMicros(pid);
          const cacheBefore = endpoint.cached && name === 'service' ? await cacheCounts(serving) : undefined;
          const run = await drive(base, endpoint, target, connections, DURATION);
          measured[name] = { ...run, cpuPerRequest: (cpuMicros(pid) - cpuBefore) / (run.rps * DURATION) };
          if (cacheBefore) {
            const after = await cacheCounts(serving);
            const hits = after.hit - cacheBefore.hit;
            hitRatio = hits / Math.max(1, hits + after.miss - cacheBefore.miss + after.bypass - cacheBefore.bypass);
          }
        }
        const { service: s, floor: f } = measured;
        rows.push({
          endpoint: endpoint.name,
          conns: connections,
          'service req/s': Math.round(s.rps),
          'floor req/s': Math.round(f.rps),
          ratio: (s.rps / f.rps).toFixed(2),
          'service p50': ms(s.p50),
          'service p99': ms(s.p99),
          'floor p50': ms(f.p50),
          'floor p99': ms(f.p99),
          'service CPU/req': `${Math.round(s.cpuPerRequest!)} µs`,
          'floor CPU/req': `${Math.round(f.cpuPerRequest!)} µs`,
          'service non-2xx': s.non2xx + s.errors,
          'cache hits': hitRatio === undefined ? '' : `${(hitRatio * 100).toFixed(1)}%`,
        });
        results.push({ endpoint: endpoint.name, connections, service: s, floor: f, ratio: s.rps / f.rps, cache_hit_ratio: hitRatio });
        console.log(`${endpoint.name} @${connections}: service ${Math.round(s.rps)} req/s, floor ${Math.round(f.rps)} req/s (${(s.rps / f.rps).toFixed(2)})${hitRatio === undefined ? '' : `, cache hits ${(hitRatio * 100).toFixed(1)}%`}`);
      }
    }
    printTable(`Load (${USE_WRK ? 'wrk' : 'autocannon'}): ${MODELS} models × ${VERSIONS} versions × ${BINDINGS} bindings, ${DURATION} s per run after ${WARMUP} s warm-up`, rows);
    console.log(`\nSaved ${saveResults('load', { driver: USE_WRK ? 'wrk' : 'autocannon', models: MODELS, versions: VERSIONS, bindings: BINDINGS, duration: DURATION, results })}`);
  } finally {
    await service?.stop();
    await cachedService?.stop();
    await floor?.stop();
    await stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
