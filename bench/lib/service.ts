import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = path.resolve(__dirname, '..', '..');

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

/** Builds dist/ (service and migrations) as `npm run build` does. */
export function buildService(): void {
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
}

/** Resident memory of a process, in bytes (Linux /proc). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** CPU time a process has used (user + system), in microseconds (Linux /proc). */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks / 100) * 1e6;
}

/** Samples a process's RSS while `work` runs; returns the work's result and the peak seen. */
export async function withPeakRss<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peakBytes: number; beforeBytes: number }> {
  const beforeBytes = rssBytes(pid);
  let peakBytes = beforeBytes;
  const timer = setInterval(() => {
    peakBytes = Math.max(peakBytes, rssBytes(pid));
  }, 20);
  try {
    const result = await work();
    peakBytes = Math.max(peakBytes, rssBytes(pid));
    return { result, peakBytes, beforeBytes };
  } finally {
    clearInterval(timer);
  }
}

/** Extra node flags from an environment variable (space-separated), e.g. BENCH_NODE_ARGS="--cpu-prof". */
export function nodeArgsFromEnv(name: string): string[] {
  return (process.env[name] ?? '').split(' ').filter(Boolean);
}

/** The node flags production runs the service with: those of `npm run start:prod` (and the image's CMD). */
export function productionNodeArgs(): string[] {
  const script = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['start:prod'];
  const words = script.split(/\s+/);
  if (words[0] !== 'node' || words[words.length - 1] !== 'dist/main.js') throw new Error(`start:prod is not "node [flags] dist/main.js": ${script}`);
  return words.slice(1, -1);
}

/** The built service (dist/main.js, production mode, production's node flags) as a separate process. */
export class BenchService {
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(env: Record<string, string>): Promise<BenchService> {
    const port = await freePort();
    const nodeArgs = [...productionNodeArgs(), ...nodeArgsFromEnv('BENCH_NODE_ARGS')];
    const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'dist', 'main.js')], {
      cwd: ROOT,
      // Without credentials and without a rate limit (a benchmark would measure 429s) unless a run asks for them.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        NODE_ENV: 'production',
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'warn',
        // Benchmarks measure the data path, not authentication or rate limiting.
        AUTH_REQUIRED: 'false',
        RATE_LIMIT_PER_MINUTE: '0',
        ...env,
        HOST: '127.0.0.1',
        PORT: String(port),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const service = new BenchService(child, port);
    for (let waited = 0; ; waited += 100) {
      if (child.exitCode !== null) throw new Error(`the service exited with code ${child.exitCode}`);
      const ready = await fetch(service.url('/health/ready')).then((r) => r.ok, () => false);
      if (ready) return service;
      if (waited > 120_000) {
        child.kill('SIGKILL');
        throw new Error('the service did not become ready in 120 s');
      }
      await sleep(100);
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  url(pathname: string): string {
    return `http://127.0.0.1:${this.port}${pathname}`;
  }

  async post<T>(pathname: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
    const response = await fetch(this.url(pathname), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`POST ${pathname}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
