/**
 * Load: the service against the raw floor (node:http + pg, same SQL, named statements), endpoint by
 * endpoint, at fixed connection counts, driven by autocannon from this process. Usage:
 *   npm run bench:load -- [--models 10000] [--versions 20] [--bindings 2] [--duration 10] [--warmup 3]
 *                         [--connections 4,32] [--hot-models 100]
 *                         [--endpoints resolve,resolve_constrained,resolve_cached,resolve_hot,model,model_by_name,versions,create_version,usage,stats]
 *                         [--auth-endpoints resolve (or none)] [--auth-rounds 3] [--rounds 3] [--database mr_bench_load] [--no-build]
 *                         [--autocannon (even when wrk is installed)]
 *
 * `resolve` runs against a service with RESOLVE_CACHE=false (every answer read from the database);
 * `resolve_cached` against a second one with the cache on as shipped, on a gateway's working set of
 * --hot-models names (`resolve_hot`: the same working set without the cache). All are compared with the
 * same floor, which has no cache.
 *
 * The services run without credentials (AUTH_REQUIRED=false) and without a rate limit. For the
 * endpoints in --auth-endpoints another service (cache off) runs with AUTH_REQUIRED=true and every
 * request carries an API key: its CPU per request against the first one's is the cost of
 * authentication. The two alternate --auth-rounds times and the medians are compared. Every service
 * first makes one write (an API key), as any production instance has, so all run in the same state.
 */
import { randomBytes } from 'node:crypto';
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
/** Models a gateway keeps resolving (resolve_cached and resolve_hot). */
const HOT_MODELS = numberFlag('hot-models', 100);
const BINDINGS = numberFlag('bindings', 2);
const DURATION = numberFlag('duration', 10);
const WARMUP = numberFlag('warmup', 3);
const CONNECTIONS = listFlag('connections', ['4', '32']).map(Number);
const DATABASE = flag('database') ?? 'mr_bench_load';
const USE_WRK = flag('autocannon') === undefined && wrkAvailable();
const AUTH_ENDPOINTS = listFlag('auth-endpoints', ['resolve']);
/** Authenticated and unauthenticated runs alternate this many times; medians are compared (shared machines are noisy). */
const AUTH_ROUNDS = numberFlag('auth-rounds', 3);
/**
 * Service and floor runs alternate this many times per endpoint (the floor first in every other round),
 * and the ratio reported is the median of each round's service/floor ratio: a shared 2-core machine
 * drifts by ±25 % over minutes, which one service run against one floor run cannot tell from a change.
 */
const ROUNDS = numberFlag('rounds', 3);

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

/** Copies wrk's global headers (the API key, in authenticated runs) into a request that sets its own. */
const JSON_HEADERS = `{ ['Content-Type'] = 'application/json', ['Authorization'] = wrk.headers['Authorization'] }`;

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
      // A gateway's working set: --hot-models names resolved over and over (the cache keeps an answer
      // RESOLVE_CACHE_TTL_MS, so a uniform spread over 10,000 models would mostly measure misses).
      name: 'resolve_cached',
      cached: true,
      request: () => ({ method: 'GET', path: `/resolve/bench-model-${random(HOT_MODELS)}` }),
      lua: `return wrk.format('GET', '/resolve/bench-model-' .. math.random(1, H))`,
    },
    {
      // The uncached floor and service on the same working set, for the cached row's comparison.
      name: 'resolve_hot',
      request: () => ({ method: 'GET', path: `/resolve/bench-model-${random(HOT_MODELS)}` }),
      lua: `return wrk.format('GET', '/resolve/bench-model-' .. math.random(1, H))`,
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
  return wrk.format('POST', '/versions', ${JSON_HEADERS}, body)`,
    },
    {
      name: 'usage',
      request: () => ({ method: 'POST', path: `/bindings/${random(bindingCount)}/usage`, body: json({ latency_ms: random(900), success: Math.random() > 0.02 }) }),
      lua: `local body = '{"latency_ms":' .. math.random(1, 900) .. ',"success":' .. (math.random() > 0.02 and 'true' or 'false') .. '}'
  return wrk.format('POST', '/bindings/' .. math.random(1, B) .. '/usage', ${JSON_HEADERS}, body)`,
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

/** The run in the middle when ordered by `key` (CPU per request, throughput). */
function medianBy(runs: Measured[], key: (run: Measured) => number): Measured {
  return [...runs].sort((a, b) => key(a) - key(b))[Math.floor(runs.length / 2)];
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** wrk when installed (less CPU taken from the servers on this 2-core machine), else autocannon. */
async function drive(base: string, endpoint: Endpoint, target: number, connections: number, seconds: number, headers: Record<string, string> = {}): Promise<Measured> {
  if (USE_WRK) return runWrk(base, endpoint.lua, connections, seconds, { N: MODELS, H: HOT_MODELS, B: MODELS * VERSIONS * BINDINGS, TARGET: target, RUN: 10 * ++runs }, headers);

  const result = await autocannon({
    url: base,
    connections,
    duration: seconds,
    requests: [
      {
        setupRequest: (request) => {
          const next = endpoint.request(target);
          return { ...request, method: next.method, path: next.path, body: next.body, headers: { ...headers, ...(next.body ? { 'content-type': 'application/json' } : {}) } };
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
  let authService: BenchService | undefined;
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
    await service.post('/api-keys', { name: 'bench', scopes: ['registry:read'] });
    if (selected.includes('resolve_cached')) {
      cachedService = await BenchService.start({ ...env, RETENTION_ENABLED: 'false', DB_POOL_SIZE: '10', RESOLVE_CACHE: 'true' });
      await cachedService.post('/api-keys', { name: 'bench', scopes: ['registry:read'] });
    }
    floor = await FloorServer.start({ ...env, DB_POOL_SIZE: '10' });
    let authHeaders: Record<string, string> = {};
    if (AUTH_ENDPOINTS.some((name) => selected.includes(name))) {
      const bootstrapKey = randomBytes(32).toString('base64url');
      authService = await BenchService.start({ ...env, RETENTION_ENABLED: 'false', DB_POOL_SIZE: '10', RESOLVE_CACHE: 'false', AUTH_REQUIRED: 'true', AUTH_BOOTSTRAP_KEY: bootstrapKey });
      const { key } = await authService.post<{ key: string }>(
        '/api-keys',
        { name: 'bench', scopes: ['registry:read', 'registry:write', 'usage:report'] },
        { authorization: `Bearer ${bootstrapKey}` },
      );
      authHeaders = { Authorization: `Bearer ${key}` };
    }

    const rows: Record<string, string | number>[] = [];
    const results: unknown[] = [];
    for (const endpoint of endpoints(bindingCount).filter((e) => selected.includes(e.name))) {
      for (const connections of CONNECTIONS) {
        const measured: Record<string, Measured> = {};
        const serving = endpoint.cached ? cachedService! : service;
        let hitRatio: number | undefined;
        /** Each round's service/floor throughput ratio. */
        let pairedRatios: number[] = [];
        const measure = async (target: number, base: string, pid: number, headers: Record<string, string> = {}): Promise<Measured> => {
          await drive(base, endpoint, target, connections, WARMUP, headers);
          const cpuBefore = cpuMicros(pid);
          const run = await drive(base, endpoint, target, connections, DURATION, headers);
          return { ...run, cpuPerRequest: (cpuMicros(pid) - cpuBefore) / (run.rps * DURATION) };
        };
        if (authService && AUTH_ENDPOINTS.includes(endpoint.name)) {
          const plain: Measured[] = [];
          const keyed: Measured[] = [];
          for (let round = 0; round < AUTH_ROUNDS; round++) {
            plain.push(await measure(1, serving.url(''), serving.pid));
            keyed.push(await measure(3, authService.url(''), authService.pid, authHeaders));
          }
          measured.service = medianBy(plain, (run) => run.cpuPerRequest!);
          measured.authenticated = medianBy(keyed, (run) => run.cpuPerRequest!);
          measured.floor = await measure(2, floor.url(''), floor.pid);
          pairedRatios = [measured.service.rps / measured.floor.rps];
        } else {
          const cacheBefore = endpoint.cached ? await cacheCounts(serving) : undefined;
          const services: Measured[] = [];
          const floors: Measured[] = [];
          for (let round = 0; round < ROUNDS; round++) {
            const floorFirst = round % 2 === 1;
            if (floorFirst) floors.push(await measure(2, floor.url(''), floor.pid));
            services.push(await measure(1, serving.url(''), serving.pid));
            if (!floorFirst) floors.push(await measure(2, floor.url(''), floor.pid));
            pairedRatios.push(services[round].rps / floors[round].rps);
          }
          if (cacheBefore) {
            const after = await cacheCounts(serving);
            const hits = after.hit - cacheBefore.hit;
            hitRatio = hits / Math.max(1, hits + after.miss - cacheBefore.miss + after.bypass - cacheBefore.bypass);
          }
          measured.service = medianBy(services, (run) => run.rps);
          measured.floor = medianBy(floors, (run) => run.rps);
        }
        const { service: s, floor: f, authenticated: a } = measured;
        const ratio = medianOf(pairedRatios);
        rows.push({
          endpoint: endpoint.name,
          conns: connections,
          'service req/s': Math.round(s.rps),
          'floor req/s': Math.round(f.rps),
          ratio: ratio.toFixed(2),
          'round ratios': pairedRatios.map((r) => r.toFixed(2)).join(' '),
          'service p50': ms(s.p50),
          'service p99': ms(s.p99),
          'floor p50': ms(f.p50),
          'floor p99': ms(f.p99),
          'service CPU/req': `${Math.round(s.cpuPerRequest!)} µs`,
          'floor CPU/req': `${Math.round(f.cpuPerRequest!)} µs`,
          'service non-2xx': s.non2xx + s.errors,
          'cache hits': hitRatio === undefined ? '' : `${(hitRatio * 100).toFixed(1)}%`,
          'with key req/s': a ? Math.round(a.rps) : '-',
          'with key CPU/req': a ? `${Math.round(a.cpuPerRequest!)} µs` : '-',
          'key CPU ratio': a ? (a.cpuPerRequest! / s.cpuPerRequest!).toFixed(2) : '-',
          'with key non-2xx': a ? a.non2xx + a.errors : '-',
        });
        results.push({
          endpoint: endpoint.name,
          connections,
          service: s,
          floor: f,
          ratio,
          round_ratios: pairedRatios,
          cache_hit_ratio: hitRatio,
          ...(a ? { authenticated: a, auth_cpu_ratio: a.cpuPerRequest! / s.cpuPerRequest! } : {}),
        });
        console.log(
          `${endpoint.name} @${connections}: service ${Math.round(s.rps)} req/s, floor ${Math.round(f.rps)} req/s (median of round ratios ${ratio.toFixed(2)}: ${pairedRatios.map((r) => r.toFixed(2)).join(' ')})` +
            (hitRatio === undefined ? '' : `, cache hits ${(hitRatio * 100).toFixed(1)}%`) +
            (a ? `; with a key ${Math.round(a.rps)} req/s, CPU/req ${(a.cpuPerRequest! / s.cpuPerRequest!).toFixed(2)} × without` : ''),
        );
      }
    }
    printTable(`Load (${USE_WRK ? 'wrk' : 'autocannon'}): ${MODELS} models × ${VERSIONS} versions × ${BINDINGS} bindings, ${DURATION} s per run after ${WARMUP} s warm-up; service and floor alternate ${ROUNDS} rounds, ratio = median of the rounds' ratios`, rows);
    console.log(`\nSaved ${saveResults('load', { driver: USE_WRK ? 'wrk' : 'autocannon', models: MODELS, versions: VERSIONS, bindings: BINDINGS, duration: DURATION, results })}`);
  } finally {
    await service?.stop();
    await cachedService?.stop();
    await authService?.stop();
    await floor?.stop();
    await stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
