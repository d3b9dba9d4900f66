import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServerConnection } from '../setup/test-database';
import { freePort } from './service-process';

/** Where Debian's package puts it; PATH is searched first. */
const CANDIDATES = ['pgbouncer', '/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'];

function findPgBouncer(): string {
  for (const candidate of CANDIDATES) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error('pgbouncer is not installed: these tests need it (Debian: apt-get install -y pgbouncer; .ci/run installs it).');
}

/** PgBouncer refuses to run as root: as root, it runs as `nobody`. */
function runAs(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'nobody'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

export interface PgBouncerOptions {
  /** Server connections per database and user: small, so that client sessions really share them. */
  poolSize?: number;
  /** `ignore_startup_parameters = statement_timeout`, as the README advises; false: a stock configuration. */
  ignoreStatementTimeout?: boolean;
}

/**
 * A private PgBouncer (Debian's, 1.18 here) in transaction pooling mode in front of `server`, on a
 * free port, with its files in a temporary folder. It is configured as the README advises for the
 * service: `ignore_startup_parameters = statement_timeout` (PgBouncer refuses that startup parameter
 * otherwise) and no prepared-statement support (1.18 has none).
 */
export class PgBouncer {
  private output = '';

  private constructor(
    readonly port: number,
    readonly server: ServerConnection,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  static async start(server: ServerConnection, options: PgBouncerOptions = {}): Promise<PgBouncer> {
    const binary = findPgBouncer();
    const port = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), 'pgbouncer-'));
    const auth = server.password ? 'scram-sha-256' : 'trust';
    writeFileSync(path.join(dir, 'userlist.txt'), `"${server.user}" "${server.password ?? ''}"\n`, { mode: 0o600 });
    writeFileSync(
      path.join(dir, 'pgbouncer.ini'),
      [
        '[databases]',
        `* = host=${server.host} port=${server.port}`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${port}`,
        'unix_socket_dir =',
        `auth_type = ${auth}`,
        `auth_file = ${path.join(dir, 'userlist.txt')}`,
        `admin_users = ${server.user}`,
        'pool_mode = transaction',
        'max_client_conn = 1000',
        `default_pool_size = ${options.poolSize ?? 5}`,
        options.ignoreStatementTimeout === false ? '' : 'ignore_startup_parameters = statement_timeout',
        'log_connections = 0',
        'log_disconnections = 0',
        '',
      ].join('\n'),
    );
    const user = runAs();
    if (user.uid !== undefined) {
      for (const file of ['', ...readdirSync(dir)]) chownSync(path.join(dir, file), user.uid, user.gid!);
    }
    const child = spawn(binary, [path.join(dir, 'pgbouncer.ini')], { ...user, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const pgbouncer = new PgBouncer(port, server, child, dir);
    await pgbouncer.waitUntilListening();
    return pgbouncer;
  }

  /** Environment for the service: the pool through PgBouncer, sessions straight to PostgreSQL, no named statements. */
  get serviceEnv(): Record<string, string> {
    return {
      POSTGRES_HOST: '127.0.0.1',
      POSTGRES_PORT: String(this.port),
      POSTGRES_DIRECT_HOST: this.server.host,
      POSTGRES_DIRECT_PORT: String(this.server.port),
      DB_PREPARED_STATEMENTS: 'false',
    };
  }

  get logs(): string {
    return this.output;
  }

  private async waitUntilListening(): Promise<void> {
    for (let waited = 0; waited < 10_000; waited += 50) {
      if (this.child.exitCode !== null) throw new Error(`pgbouncer exited (code ${this.child.exitCode}): ${this.output.slice(-2_000)}`);
      if (await accepts(this.port)) return;
      await sleep(50);
    }
    throw new Error(`pgbouncer did not listen on ${this.port} within 10 s: ${this.output.slice(-2_000)}`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      // SIGINT: "safe shutdown" would wait for clients; SIGTERM closes at once.
      this.child.kill('SIGTERM');
      await exited;
    }
    if (existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true });
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
