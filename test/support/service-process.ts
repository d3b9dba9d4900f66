import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { TEST_ENV, testServer } from '../setup/test-database';
import { contract, contractCheckedFetch } from './contract';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ProcessOptions {
  /** The entry script (default: the build of the global setup) and the working directory. */
  entry?: string;
  cwd?: string;
  /** Run as this user (needs root). */
  uid?: number;
  gid?: number;
  /** Go before the script (e.g. a test-only `--require`). */
  nodeArgs?: string[];
}

/** The environment that points a service process at `database` on the test server. */
export function databaseEnv(database: string): Record<string, string> {
  const server = testServer();
  return { POSTGRES_HOST: server.host, POSTGRES_PORT: String(server.port), POSTGRES_USER: server.user, POSTGRES_PASSWORD: server.password ?? '', POSTGRES_DB: database };
}

/** The compiled service (built once by the global setup) running as a real process. */
export class ServiceProcess {
  readonly logs: Record<string, unknown>[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  private constructor(
    readonly port: number,
    env: Record<string, string>,
    options: ProcessOptions,
  ) {
    this.child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.entry ?? process.env[TEST_ENV.builtApp]!], {
      // Authentication and the rate limit are off unless a test turns them on.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_FORMAT: 'json', AUTH_REQUIRED: 'false', RATE_LIMIT_PER_MINUTE: '0', ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: options.cwd,
      uid: options.uid,
      gid: options.gid,
    });
    let buffer = '';
    const collect = (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        try {
          this.logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.logs.push({ msg: line });
        }
      }
    };
    this.child.stdout!.on('data', collect);
    this.child.stderr!.on('data', collect);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  static async start(env: Record<string, string>, options: ProcessOptions = {}): Promise<ServiceProcess> {
    return new ServiceProcess(await freePort(), env, options);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The signal that ended the process (SIGKILL, …), or null. */
  get exitSignal(): NodeJS.Signals | null {
    return this.child.signalCode;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** fetch against the service; every response is checked against openapi.json, as in-process tests are. */
  readonly fetch = contractCheckedFetch();

  /** The status `path` answers (0 while nothing answers); the response is checked against openapi.json. */
  async status(path: string): Promise<number> {
    let response: { status: number; headers: Record<string, string>; text: string };
    try {
      const answer = await fetch(this.url(path), { signal: AbortSignal.timeout(3_000) });
      response = { status: answer.status, headers: Object.fromEntries(answer.headers), text: await answer.text() };
    } catch {
      return 0;
    }
    contract().assert({ method: 'GET', url: path, ...response });
    return response.status;
  }

  /** Polls `path` until it answers `status`; returns the milliseconds it took. */
  async waitFor(path: string, status: number, timeoutMs: number): Promise<number> {
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      if ((await this.status(path)) === status) return Date.now() - started;
      if (!this.running) throw new Error(`service exited early:\n${this.logText()}`);
      await sleep(100);
    }
    throw new Error(`GET ${path} did not answer ${status} within ${timeoutMs} ms:\n${this.logText()}`);
  }

  /** Log lines are written in batches (at least every 250 ms): wait for one to arrive. */
  async waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs = 3_000): Promise<Record<string, unknown> | undefined> {
    for (let waited = 0; waited <= timeoutMs; waited += 50) {
      const line = this.logs.find(predicate);
      if (line) return line;
      await sleep(50);
    }
    return undefined;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async stop(): Promise<number | null> {
    if (this.running) this.signal('SIGTERM');
    return this.exited;
  }

  logText(): string {
    return this.logs.map((line) => JSON.stringify(line)).join('\n').slice(-4_000);
  }
}
