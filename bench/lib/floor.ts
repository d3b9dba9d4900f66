import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { freePort, nodeArgsFromEnv, ROOT } from './service';

/** The raw node:http + pg floor server (bench/floor/server.ts) as a separate process. */
export class FloorServer {
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(env: Record<string, string>): Promise<FloorServer> {
    const port = await freePort();
    const child = fork(path.join(ROOT, 'bench', 'floor', 'server.ts'), [], {
      cwd: ROOT,
      // BENCH_FLOOR_NODE_ARGS (e.g. --cpu-prof) as BENCH_NODE_ARGS does for the service.
      execArgv: ['-r', 'ts-node/register/transpile-only', ...nodeArgsFromEnv('BENCH_FLOOR_NODE_ARGS')],
      env: { ...process.env, ...env, PORT: String(port), TS_NODE_TRANSPILE_ONLY: 'true' },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`the floor server exited with code ${code}`)));
    });
    return new FloorServer(child, port);
  }

  get pid(): number {
    return this.child.pid!;
  }

  url(pathname: string): string {
    return `http://127.0.0.1:${this.port}${pathname}`;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
