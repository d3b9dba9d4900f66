import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../lib/service';

const BINARY = '/usr/sbin/nginx';

/**
 * nginx (Debian's) as the load balancer in front of service replicas, on a free port, with its files in
 * a temporary folder. GETs (idempotent) that meet a dead or closing replica (connection error, 502,
 * 503, 504) are retried on the next one; POSTs are never retried once sent (nginx's default for
 * non-idempotent methods), so a write is never applied twice.
 */
export class Nginx {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  static available(): boolean {
    try {
      execFileSync(BINARY, ['-v'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }

  static async start(upstreamPorts: number[]): Promise<Nginx> {
    if (!Nginx.available()) throw new Error('nginx is not installed (Debian: apt-get install -y nginx-light)');
    const port = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), 'nginx-'));
    const temp = path.join(dir, 'temp');
    mkdirSync(temp);
    // As root, the master keeps root and the worker runs as nobody, which must write its temp files.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownSync(temp, Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' })));
    writeFileSync(
      path.join(dir, 'nginx.conf'),
      `${asRoot ? 'user nobody nogroup;' : ''}
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  upstream registry {
${upstreamPorts.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;`).join('\n')}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port} reuseport backlog=4096;
    location / {
      proxy_pass http://registry;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_connect_timeout 1s;
      proxy_read_timeout 15s;
      proxy_next_upstream error timeout http_502 http_503 http_504;
      proxy_next_upstream_tries 3;
    }
  }
}
`,
    );
    const child = spawn(BINARY, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'inherit'] });
    for (let waited = 0; ; waited += 50) {
      if (child.exitCode !== null) throw new Error(`nginx exited (code ${child.exitCode}): ${readFileSync(path.join(dir, 'error.log'), 'utf8').slice(-1500)}`);
      const up = await fetch(`http://127.0.0.1:${port}/health/live`).then(
        () => true,
        () => false,
      );
      if (up) return new Nginx(port, child, dir);
      if (waited > 10_000) throw new Error('nginx did not start listening in 10 s');
      await sleep(50);
    }
  }

  url(pathname: string): string {
    return `http://127.0.0.1:${this.port}${pathname}`;
  }

  /** nginx's own log of upstream failures it handled (each one a retry for a GET). */
  upstreamErrors(): string[] {
    return readFileSync(path.join(this.dir, 'error.log'), 'utf8')
      .split('\n')
      .filter((line) => /upstream|connect\(\) failed/.test(line));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGQUIT');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
