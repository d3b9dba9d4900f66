/**
 * Scale-out: nginx in front of 1, 2 and 3 replicas of the service on one PostgreSQL.
 *   1. resolve and version-registration throughput at each size, as ratios to one replica reached
 *      directly (the floor, measured in the same run);
 *   2. one of three replicas SIGKILLed under GET load: nginx retries idempotent requests on the next
 *      replica, so no client GET fails (writes in flight on the killed replica are reported, not retried);
 *   3. three replicas sharing a forced cron slot: exactly one retention run.
 * Usage:
 *   npm run bench:scale-out -- [--models 2000] [--versions 6] [--duration 10] [--warmup 3] [--connections 32]
 *                              [--kill-duration 15] [--no-build]
 * Needs nginx (Debian: apt-get install -y nginx-light) and, preferably, wrk (apt-get install -y wrk).
 */
import autocannon from 'autocannon';
import { setTimeout as sleep } from 'node:timers/promises';
import { flag, numberFlag } from '../lib/args';
import { benchServer, freshDatabase, migrate, serviceDatabaseEnv, withClient, type Server } from '../lib/database';
import { ms, printTable, saveResults } from '../lib/report';
import { seedCatalog } from '../lib/seed';
import { BenchService, buildService } from '../lib/service';
import { runWrk, wrkAvailable } from '../lib/wrk';
import { Nginx } from './nginx';

const MODELS = numberFlag('models', 2_000);
const VERSIONS = numberFlag('versions', 6);
const DURATION = numberFlag('duration', 10);
const WARMUP = numberFlag('warmup', 3);
const CONNECTIONS = numberFlag('connections', 32);
const KILL_DURATION = numberFlag('kill-duration', 15);
const DATABASE = 'mr_bench_scale_out';
const USE_WRK = wrkAvailable();

interface Load {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /** Requests that did not get a 2xx/3xx answer: HTTP errors plus socket errors and timeouts. */
  failed: number;
}

interface Workload {
  name: string;
  lua: string;
  request: () => { method: 'GET' | 'POST'; path: string; body?: string };
}

let runs = 0;
let created = 0;
const random = (n: number) => 1 + Math.floor(Math.random() * n);

const RESOLVE: Workload = {
  name: 'resolve',
  lua: `return wrk.format('GET', '/resolve/bench-model-' .. math.random(1, N))`,
  request: () => ({ method: 'GET', path: `/resolve/bench-model-${random(MODELS)}` }),
};

/** New versions with hashes and version strings unique per run (RUN) and request (counter). */
const REGISTER: Workload = {
  name: 'register_version',
  lua: `local hash = string.rep('c', 40) .. string.format('%04x%020x', RUN, counter)
  local body = '{"model_id":' .. math.random(1, N) .. ',"hash":"' .. hash .. '","version":"7.' .. counter .. '.' .. RUN .. '","cost_per_1k":0.01,"eval_score":0.9}'
  return wrk.format('POST', '/versions', { ['Content-Type'] = 'application/json' }, body)`,
  request: () => {
    const n = ++created;
    return {
      method: 'POST',
      path: '/versions',
      body: JSON.stringify({ model_id: random(MODELS), hash: `${runs.toString(16).padStart(4, '0')}${n.toString(16).padStart(20, '0')}`.padStart(64, 'd'), version: `6.${n}.${runs}` }),
    };
  },
};

/** wrk (one thread, cheap on 2 cores) when installed, else autocannon in this process. */
async function drive(base: string, workload: Workload, seconds: number, connections = CONNECTIONS): Promise<Load> {
  runs++;
  if (USE_WRK) {
    const r = await runWrk(base, workload.lua, connections, seconds, { N: MODELS, RUN: runs });
    return { requests: r.requests, rps: r.rps, p50: r.p50, p99: r.p99, failed: r.non2xx + r.errors };
  }
  const r = await autocannon({
    url: base,
    connections,
    duration: seconds,
    requests: [{ setupRequest: (request) => ({ ...request, ...workload.request(), headers: { 'content-type': 'application/json' } }) }],
  });
  return { requests: r.requests.total, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, failed: r.non2xx + r.errors + r.timeouts };
}

function replicaEnv(server: Server): Record<string, string> {
  return {
    ...serviceDatabaseEnv(server, DATABASE),
    DB_POOL_SIZE: '10',
    RETENTION_ENABLED: 'false',
    // The authentication work turns auth and rate limits on by default with POSTGRES_HOST.
    AUTH_REQUIRED: 'false',
    RATE_LIMIT_PER_MINUTE: '0',
  };
}

/** How long the last group of replicas took to become ready (the cron phase plans its slot with it). */
let lastStartMs = 10_000;

async function startReplicas(count: number, env: Record<string, string>): Promise<BenchService[]> {
  const started = Date.now();
  const settled = await Promise.allSettled(Array.from({ length: count }, () => BenchService.start(env)));
  const replicas = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = settled.find((result) => result.status === 'rejected');
  if (failure) {
    await stopAll(replicas);
    throw failure.reason;
  }
  lastStartMs = Date.now() - started;
  return replicas;
}

async function stopAll(services: BenchService[]): Promise<void> {
  await Promise.all(services.map((service) => service.stop()));
}

async function throughput(server: Server): Promise<Record<string, unknown>[]> {
  const results: Record<string, unknown>[] = [];
  const replicas = await startReplicas(3, replicaEnv(server));
  try {
    // Every replica gets the same warm-up (JIT, pool, statement plans) before any is measured.
    for (const replica of replicas) for (const workload of [RESOLVE, REGISTER]) await drive(replica.url(''), workload, WARMUP);
    const measure = async (label: string, size: number, base: string) => {
      for (const workload of [RESOLVE, REGISTER]) {
        await drive(base, workload, WARMUP);
        const load = await drive(base, workload, DURATION);
        results.push({ setup: label, replicas: size, workload: workload.name, ...load });
        console.log(`${label} ${workload.name}: ${Math.round(load.rps)} req/s, p99 ${ms(load.p99)}, failed ${load.failed}`);
      }
    };
    await measure('direct (floor)', 1, replicas[0].url(''));
    for (const size of [1, 2, 3]) {
      const nginx = await Nginx.start(replicas.slice(0, size).map((replica) => replica.port));
      try {
        await measure('nginx', size, nginx.url(''));
      } finally {
        await nginx.stop();
      }
    }
  } finally {
    await stopAll(replicas);
  }
  return results;
}

/** SIGKILL one of three replicas a third of the way into a GET load; a trickle of writes runs alongside. */
async function killOne(server: Server): Promise<Record<string, unknown>> {
  const replicas = await startReplicas(3, replicaEnv(server));
  const nginx = await Nginx.start(replicas.map((replica) => replica.port));
  try {
    const writes = { sent: 0, ok: 0, failed: 0, statuses: {} as Record<string, number> };
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const { path, body } = REGISTER.request();
        writes.sent++;
        const status = await fetch(nginx.url(path), { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(
          async (response) => (await response.arrayBuffer(), response.status),
          () => 0,
        );
        if (status === 201) writes.ok++;
        else writes.failed++;
        writes.statuses[status] = (writes.statuses[status] ?? 0) + 1;
        await sleep(20);
      }
    })();
    const load = drive(nginx.url(''), RESOLVE, KILL_DURATION);
    const killAfterMs = (KILL_DURATION * 1000) / 3;
    await sleep(killAfterMs);
    replicas[1].child.kill('SIGKILL');
    const gets = await load;
    writing = false;
    await writer;
    const retried = nginx.upstreamErrors().length;
    console.log(
      `kill: ${gets.requests} GETs, ${gets.failed} failed; nginx logged ${retried} upstream failure(s) it retried; writes ${writes.ok}/${writes.sent} ok (${JSON.stringify(writes.statuses)})`,
    );
    return { gets, retried_upstream_failures: retried, writes, killed_after_ms: killAfterMs };
  } finally {
    await nginx.stop();
    await stopAll(replicas);
  }
}

/** Three replicas with a cron expression matching one instant a little ahead: one run, by one of them. */
async function oneCronRun(server: Server): Promise<Record<string, unknown>> {
  await withClient(server, DATABASE, (client) => client.query('DELETE FROM retention_runs'));
  // Far enough ahead for three replicas to start, judged by how long the last three took.
  const leadMs = Math.max(20_000, 2 * lastStartMs + 5_000);
  const slot = new Date(Math.ceil((Date.now() + leadMs) / 1000) * 1000);
  const cron = `${slot.getUTCSeconds()} ${slot.getUTCMinutes()} ${slot.getUTCHours()} ${slot.getUTCDate()} ${slot.getUTCMonth() + 1} *`;
  const replicas = await startReplicas(3, { ...replicaEnv(server), RETENTION_ENABLED: 'true', RETENTION_CRON: cron });
  try {
    if (Date.now() >= slot.getTime()) throw new Error(`the replicas took longer to start than the slot lead (${leadMs} ms): rerun on a quieter machine`);
    await sleep(slot.getTime() - Date.now() + 2_000);
    let rows: { trigger: string; scheduled_for: Date; status: string; instance: string; archived_count: number }[] = [];
    for (let waited = 0; waited < 120_000; waited += 500) {
      rows = await withClient(server, DATABASE, async (client) => (await client.query('SELECT trigger, scheduled_for, status, instance, archived_count FROM retention_runs ORDER BY id')).rows);
      if (rows.length > 0 && rows.every((row) => row.status !== 'running')) break;
      await sleep(500);
    }
    const scheduled = rows.filter((row) => row.trigger === 'scheduled' && row.scheduled_for.getTime() === slot.getTime());
    console.log(`cron: ${scheduled.length} run(s) for slot ${slot.toISOString()} across 3 replicas: ${JSON.stringify(scheduled)}`);
    return { slot: slot.toISOString(), runs: scheduled, all_runs: rows.length };
  } finally {
    await stopAll(replicas);
  }
}

async function main(): Promise<void> {
  if (!Nginx.available()) throw new Error('nginx is not installed (Debian: apt-get install -y nginx-light)');
  if (flag('no-build') === undefined) buildService();
  const { server, stop } = await benchServer();
  try {
    console.log(`Seeding ${MODELS} models × ${VERSIONS} versions × 2 bindings…`);
    await freshDatabase(server, DATABASE);
    await migrate(server, DATABASE);
    await withClient(server, DATABASE, (client) => seedCatalog(client, { models: MODELS, versionsPerModel: VERSIONS, bindingsPerVersion: 2 }));

    const sizes = await throughput(server);
    const floor = (workload: string) => sizes.find((row) => row.setup === 'direct (floor)' && row.workload === workload)!.rps as number;
    printTable(
      `Throughput (${USE_WRK ? 'wrk' : 'autocannon'}, ${CONNECTIONS} connections, ${DURATION} s after ${WARMUP} s warm-up); ratio: to one replica reached directly`,
      sizes.map((row) => ({
        setup: String(row.setup),
        replicas: Number(row.replicas),
        workload: String(row.workload),
        'req/s': Math.round(row.rps as number),
        ratio: ((row.rps as number) / floor(String(row.workload))).toFixed(2),
        p50: ms(row.p50 as number),
        p99: ms(row.p99 as number),
        failed: Number(row.failed),
      })),
    );

    const kill = await killOne(server);
    const cron = await oneCronRun(server);
    const gets = kill.gets as Load;
    const cronRuns = (cron.runs as unknown[]).length;
    printTable('Failure and scheduling', [
      { check: 'GETs failed while a replica was SIGKILLed', result: `${gets.failed} of ${gets.requests}`, expected: '0' },
      { check: 'retention runs for one forced cron slot, 3 replicas', result: String(cronRuns), expected: '1' },
    ]);
    console.log(`\nSaved ${saveResults('scale-out', { driver: USE_WRK ? 'wrk' : 'autocannon', models: MODELS, versions: VERSIONS, connections: CONNECTIONS, sizes, kill, cron })}`);
    if (gets.failed > 0 || cronRuns !== 1) process.exitCode = 1;
  } finally {
    await stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
