/**
 * PostgreSQL failover drill (see README.md beside this file): a Patroni cluster of two PostgreSQL nodes
 * (primary + synchronous streaming replica, etcd as the DCS) behind HAProxy, the service writing
 * through it under load; the primary's machine is "lost" (Patroni and PostgreSQL SIGKILLed), the
 * replica is promoted, and the drill measures how long until the service is ready and acknowledging
 * writes again, then checks that every write acknowledged before, during and after is on the new
 * primary. Everything runs in a temporary folder on free ports; the machine's own PostgreSQL is never
 * touched. Usage (as root, or as a user who may run PostgreSQL):
 *   npm run drill:failover -- [--writers 8] [--before 8] [--after 8] [--ttl 10] [--loop-wait 1] [--retry-timeout 4] [--no-build] [--keep]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';

const ROOT = path.resolve(__dirname, '..', '..');

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? fallback : Number(process.argv[index + 1]);
}
const has = (name: string) => process.argv.includes(`--${name}`);

const WRITERS = flag('writers', 8);
const BEFORE_S = flag('before', 8);
const AFTER_S = flag('after', 8);
const TTL = flag('ttl', 10);
const LOOP_WAIT = flag('loop-wait', 1);
const RETRY_TIMEOUT = flag('retry-timeout', 4);
const SUPERUSER_PASSWORD = randomBytes(12).toString('hex');
const REPLICATION_PASSWORD = randomBytes(12).toString('hex');
const DATABASE = 'model_registry';

const BINARIES = {
  patroni: '/usr/bin/patroni',
  etcd: '/usr/bin/etcd',
  haproxy: '/usr/sbin/haproxy',
  pgBin: '/usr/lib/postgresql/15/bin',
};

const log = (message: string) => console.log(`[${new Date().toISOString().slice(11, 23)}] ${message}`);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** PostgreSQL (and so Patroni) refuses to run as root: as root, the cluster runs as `postgres`. */
function clusterUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flagName: string) => Number(execFileSync('id', [flagName, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

class Processes {
  private readonly children: { name: string; child: ChildProcess }[] = [];

  constructor(private readonly dir: string) {}

  start(name: string, command: string, args: string[], options: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): ChildProcess {
    const out = openSync(path.join(this.dir, `${name}.log`), 'a');
    const child = spawn(command, args, { ...options, env: options.env ?? process.env, stdio: ['ignore', out, out] });
    this.children.push({ name, child });
    return child;
  }

  async stopAll(): Promise<void> {
    for (const { child } of [...this.children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const escalate = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(escalate);
    }
  }

  logOf(name: string): string {
    const file = path.join(this.dir, `${name}.log`);
    return existsSync(file) ? readFileSync(file, 'utf8').slice(-3_000) : '';
  }
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

const httpStatus = (url: string, timeoutMs = 1_000) =>
  fetch(url, { signal: AbortSignal.timeout(timeoutMs) }).then(
    async (response) => (await response.arrayBuffer(), response.status),
    () => 0,
  );

interface Node {
  name: string;
  pgPort: number;
  apiPort: number;
  dataDir: string;
  config: string;
  process?: ChildProcess;
}

function patroniConfig(scope: string, node: Node, etcdPort: number, dir: string): string {
  // JSON is YAML: Patroni reads it as its configuration file.
  return JSON.stringify(
    {
      scope,
      namespace: '/drill/',
      name: node.name,
      restapi: { listen: `127.0.0.1:${node.apiPort}`, connect_address: `127.0.0.1:${node.apiPort}` },
      etcd3: { hosts: `127.0.0.1:${etcdPort}` },
      bootstrap: {
        dcs: {
          ttl: TTL,
          loop_wait: LOOP_WAIT,
          retry_timeout: RETRY_TIMEOUT,
          maximum_lag_on_failover: 1_048_576,
          // Commits wait for the replica, and only a synchronous replica may be promoted: an
          // acknowledged write cannot be lost with the primary.
          synchronous_mode: true,
          postgresql: {
            use_pg_rewind: true,
            parameters: { wal_level: 'replica', hot_standby: 'on', max_wal_senders: 5, max_replication_slots: 5, wal_log_hints: 'on', max_connections: 100 },
          },
        },
        initdb: [{ encoding: 'UTF8' }, { locale: 'C' }, 'data-checksums'],
        pg_hba: ['local all all trust', 'host replication replicator 127.0.0.1/32 scram-sha-256', 'host all all 127.0.0.1/32 scram-sha-256'],
      },
      postgresql: {
        listen: `127.0.0.1:${node.pgPort}`,
        connect_address: `127.0.0.1:${node.pgPort}`,
        data_dir: node.dataDir,
        bin_dir: BINARIES.pgBin,
        pgpass: path.join(dir, `${node.name}.pgpass`),
        authentication: {
          superuser: { username: 'postgres', password: SUPERUSER_PASSWORD },
          replication: { username: 'replicator', password: REPLICATION_PASSWORD },
        },
        parameters: { unix_socket_directories: dir, password_encryption: 'scram-sha-256' },
      },
      tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
    },
    null,
    2,
  );
}

function haproxyConfig(port: number, nodes: Node[]): string {
  // The primary is whichever node's Patroni answers 200 on /primary; a node marked down has its
  // sessions cut, so clients reconnect to the new primary instead of hanging on the old one.
  return `global
  maxconn 2000
defaults
  mode tcp
  timeout connect 2s
  timeout client 30m
  timeout server 30m
  timeout check 1s
listen postgres_primary
  bind 127.0.0.1:${port}
  option httpchk GET /primary
  http-check expect status 200
  default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions
${nodes.map((node) => `  server ${node.name} 127.0.0.1:${node.pgPort} maxconn 500 check port ${node.apiPort}`).join('\n')}
`;
}

interface WriteRecord {
  name: string;
  startedAt: number;
  endedAt: number;
  status: number;
}

async function main(): Promise<void> {
  for (const [name, binary] of Object.entries(BINARIES)) {
    if (!existsSync(binary)) throw new Error(`${name} is missing (${binary}). Debian: apt-get install -y patroni etcd-server haproxy postgresql-15`);
  }
  if (!has('no-build')) {
    log('building the service (npm run build)');
    execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  }

  const dir = mkdtempSync(path.join(tmpdir(), 'failover-drill-'));
  const user = clusterUser();
  if (user.uid !== undefined) chownSync(dir, user.uid, user.gid!);
  const processes = new Processes(dir);
  const results: Record<string, unknown> = {};
  log(`working in ${dir}`);

  try {
    // ---- etcd (the DCS), single member
    const [etcdClient, etcdPeer] = [await freePort(), await freePort()];
    const etcdDir = path.join(dir, 'etcd');
    mkdirSync(etcdDir, { mode: 0o700 });
    if (user.uid !== undefined) chownSync(etcdDir, user.uid, user.gid!);
    processes.start(
      'etcd',
      BINARIES.etcd,
      [
        '--name=drill',
        `--data-dir=${etcdDir}`,
        `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
        `--initial-cluster=drill=http://127.0.0.1:${etcdPeer}`,
      ],
      user,
    );
    await waitFor('etcd healthy', 20_000, async () => ((await httpStatus(`http://127.0.0.1:${etcdClient}/health`)) === 200 ? true : undefined));
    log(`etcd up on ${etcdClient}`);

    // ---- two Patroni nodes: the first bootstraps the cluster, the second clones it and streams
    const scope = `drill-${randomBytes(4).toString('hex')}`;
    const nodes: Node[] = [];
    for (const name of ['node1', 'node2']) {
      const node: Node = { name, pgPort: await freePort(), apiPort: await freePort(), dataDir: path.join(dir, name), config: path.join(dir, `${name}.yml`) };
      writeFileSync(node.config, patroniConfig(scope, node, etcdClient, dir), { mode: 0o600 });
      if (user.uid !== undefined) chownSync(node.config, user.uid, user.gid!);
      nodes.push(node);
    }
    const startNode = (node: Node) => {
      node.process = processes.start(node.name, BINARIES.patroni, [node.config], { ...user, cwd: dir, env: { ...process.env, HOME: dir } });
    };
    startNode(nodes[0]);
    await waitFor('node1 primary', 60_000, async () => ((await httpStatus(`http://127.0.0.1:${nodes[0].apiPort}/primary`)) === 200 ? true : undefined));
    log(`node1 is primary (PostgreSQL on ${nodes[0].pgPort}, Patroni API on ${nodes[0].apiPort})`);
    startNode(nodes[1]);
    await waitFor('node2 synchronous standby', 90_000, async () => ((await httpStatus(`http://127.0.0.1:${nodes[1].apiPort}/sync`)) === 200 ? true : undefined));
    log(`node2 streams as the synchronous standby (PostgreSQL on ${nodes[1].pgPort})`);

    // ---- HAProxy in front: the service only knows this address
    const haproxyPort = await freePort();
    writeFileSync(path.join(dir, 'haproxy.cfg'), haproxyConfig(haproxyPort, nodes));
    processes.start('haproxy', BINARIES.haproxy, ['-db', '-f', path.join(dir, 'haproxy.cfg')]);
    const admin = { host: '127.0.0.1', port: haproxyPort, user: 'postgres', password: SUPERUSER_PASSWORD };
    await waitFor('HAProxy routes to the primary', 20_000, async () => {
      const client = new Client({ ...admin, database: 'postgres' });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${DATABASE}`);
        return true;
      } finally {
        await client.end();
      }
    });
    log(`HAProxy on ${haproxyPort}; database ${DATABASE} created`);

    // ---- the service, through HAProxy
    const servicePort = await freePort();
    const service = processes.start('service', process.execPath, [path.join(ROOT, 'dist', 'main.js')], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'production',
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'info',
        HOST: '127.0.0.1',
        PORT: String(servicePort),
        POSTGRES_HOST: '127.0.0.1',
        POSTGRES_PORT: String(haproxyPort),
        POSTGRES_USER: 'postgres',
        POSTGRES_PASSWORD: SUPERUSER_PASSWORD,
        POSTGRES_DB: DATABASE,
        DB_POOL_SIZE: '10',
        DB_CONNECT_TIMEOUT_MS: '2000',
        HEALTH_DB_TIMEOUT_MS: '1000',
        RETENTION_ENABLED: 'false',
        // The authentication work turns auth and rate limits on by default with POSTGRES_HOST.
        AUTH_REQUIRED: 'false',
        RATE_LIMIT_PER_MINUTE: '0',
      },
    });
    const base = `http://127.0.0.1:${servicePort}`;
    await waitFor('the service ready', 60_000, async () => {
      if (service.exitCode !== null) throw new Error(`the service exited: ${processes.logOf('service')}`);
      return (await httpStatus(`${base}/health/ready`)) === 200 ? true : undefined;
    });
    log(`the service is ready on ${servicePort}`);

    // ---- write load: each writer registers models one after another; a 201 is an acknowledged write
    const writes: WriteRecord[] = [];
    const readiness: { at: number; status: number }[] = [];
    let running = true;
    let sequence = 0;
    const writer = async (w: number) => {
      while (running) {
        const name = `drill-${w}-${++sequence}`;
        const startedAt = Date.now();
        const status = await fetch(`${base}/models`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name, task: 'generation', subject: 'drill' }),
          signal: AbortSignal.timeout(10_000),
        }).then(
          async (response) => (await response.arrayBuffer(), response.status),
          () => 0,
        );
        writes.push({ name, startedAt, endedAt: Date.now(), status });
        if (status !== 201) await sleep(50);
      }
    };
    const poller = (async () => {
      while (running) {
        readiness.push({ at: Date.now(), status: await httpStatus(`${base}/health/ready`, 2_000) });
        await sleep(100);
      }
    })();
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
    await sleep(BEFORE_S * 1000);

    // ---- before the failure, the replica must be confirming commits (else "nothing lost" proves little)
    const primary = new Client({ host: '127.0.0.1', port: nodes[0].pgPort, user: 'postgres', password: SUPERUSER_PASSWORD, database: 'postgres' });
    await primary.connect();
    const replication = (await primary.query<{ application_name: string; sync_state: string }>('SELECT application_name, sync_state FROM pg_stat_replication')).rows;
    await primary.end();
    if (!replication.some((row) => row.application_name === 'node2' && row.sync_state === 'sync')) {
      throw new Error(`node2 is not a synchronous standby before the failure: ${JSON.stringify(replication)}`);
    }

    // ---- lose the primary's machine: Patroni and PostgreSQL die at once
    const primaryPid = Number(readFileSync(path.join(nodes[0].dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const killedAt = Date.now();
    nodes[0].process!.kill('SIGKILL');
    process.kill(primaryPid, 'SIGKILL');
    log(`killed node1 (Patroni and postmaster ${primaryPid}) with ${writes.filter((w) => w.status === 201).length} writes acknowledged so far`);

    const promotedAt = await waitFor('node2 promoted', 120_000, async () => ((await httpStatus(`http://127.0.0.1:${nodes[1].apiPort}/primary`, 500)) === 200 ? Date.now() : undefined));
    log(`node2 is primary after ${promotedAt - killedAt} ms`);
    const writingAt = await waitFor('writes acknowledged again', 120_000, async () => {
      const first = writes.find((w) => w.startedAt > promotedAt && w.status === 201);
      return first?.endedAt;
    });
    log(`writes acknowledged again after ${writingAt - killedAt} ms`);
    await sleep(AFTER_S * 1000);
    running = false;
    await Promise.all([...writers, poller]);

    // ---- what happened, from the client's side
    const acknowledged = writes.filter((w) => w.status === 201);
    const failed = writes.filter((w) => w.status !== 201);
    const notReady = readiness.filter((r) => r.at >= killedAt && r.status !== 200);
    const readyAgainAt = notReady.length > 0 ? readiness.find((r) => r.at > notReady.at(-1)!.at && r.status === 200)?.at : killedAt;
    const lastAckBefore = acknowledged.filter((w) => w.endedAt <= killedAt).at(-1)?.endedAt ?? killedAt;

    // ---- every acknowledged write must be on the new primary
    const check = new Client({ host: '127.0.0.1', port: nodes[1].pgPort, user: 'postgres', password: SUPERUSER_PASSWORD, database: DATABASE });
    await check.connect();
    const present = new Set((await check.query<{ name: string }>("SELECT name FROM models WHERE subject = 'drill'")).rows.map((row) => row.name));
    const sync = (await check.query<{ value: string }>("SELECT current_setting('synchronous_standby_names') AS value")).rows[0].value;
    await check.end();
    const lost = acknowledged.filter((w) => !present.has(w.name));
    const inDoubt = failed.filter((w) => present.has(w.name));

    Object.assign(results, {
      patroni: { ttl: TTL, loop_wait: LOOP_WAIT, retry_timeout: RETRY_TIMEOUT, synchronous_mode: true },
      replication_before_kill: replication,
      writers: WRITERS,
      writes_acknowledged: acknowledged.length,
      writes_acknowledged_before_kill: acknowledged.filter((w) => w.endedAt <= killedAt).length,
      writes_failed: failed.length,
      writes_failed_by_status: failed.reduce<Record<string, number>>((counts, w) => ({ ...counts, [w.status]: (counts[w.status] ?? 0) + 1 }), {}),
      acknowledged_writes_lost: lost.length,
      failed_writes_that_committed_anyway: inDoubt.length,
      ms_kill_to_promoted: promotedAt - killedAt,
      ms_kill_to_ready: readyAgainAt ? readyAgainAt - killedAt : null,
      ms_kill_to_writing: writingAt - killedAt,
      ms_without_acknowledged_writes: writingAt - lastAckBefore,
      readiness_503_samples_after_kill: notReady.length,
      new_primary_synchronous_standby_names: sync,
    });
    console.log('\nResults');
    console.table(Object.entries(results).map(([measure, value]) => ({ measure, value: typeof value === 'object' ? JSON.stringify(value) : value })));
    const file = path.join(ROOT, 'bench', 'results', `failover-drill-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), results }, null, 2));
    log(`saved ${file}`);
    if (lost.length > 0) {
      console.error(`LOST ${lost.length} acknowledged write(s): ${lost.slice(0, 10).map((w) => w.name).join(', ')}`);
      process.exitCode = 1;
    }
    // A failover is the database's doing, never the client's and never a bug: 503, not 500.
    const serverErrors = failed.filter((w) => w.status >= 500 && w.status !== 503);
    if (serverErrors.length > 0) {
      console.error(`${serverErrors.length} write(s) answered ${[...new Set(serverErrors.map((w) => w.status))].join(', ')} instead of 503: see the service log`);
      process.exitCode = 1;
    }
  } catch (error) {
    for (const name of ['etcd', 'node1', 'node2', 'haproxy', 'service']) {
      const text = processes.logOf(name);
      if (text) console.error(`---- ${name}.log (tail)\n${text}`);
    }
    throw error;
  } finally {
    await processes.stopAll();
    // A PostgreSQL whose Patroni was killed is no longer anyone's child: stop it through its pid file.
    for (const entry of existsSync(dir) ? readdirSync(dir) : []) {
      const pidFile = path.join(dir, entry, 'postmaster.pid');
      if (!existsSync(pidFile)) continue;
      const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {
        // already gone
      }
    }
    if (has('keep')) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
