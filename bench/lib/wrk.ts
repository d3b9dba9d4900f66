import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export function wrkAvailable(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // wrk --version exits 1 after printing its version.
    return (error as { status?: number }).status === 1;
  }
}

export interface WrkResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

/**
 * Runs wrk (one thread: it costs the 2-core machine far less CPU than a Node load generator) with a
 * Lua `request` function body that returns `wrk.format(...)`; `N`, `TARGET` and a per-thread counter
 * `counter` are in scope, and `headers` are in `wrk.headers` (a request that passes its own headers
 * must copy them). Prints its summary as JSON from `done`.
 */
export function runWrk(url: string, requestLua: string, connections: number, seconds: number, vars: Record<string, number>, headers: Record<string, string> = {}): Promise<WrkResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'wrk-'));
  const script = path.join(dir, 'script.lua');
  writeFileSync(
    script,
    `${Object.entries(vars)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n')}
${Object.entries(headers)
  .map(([name, value]) => `wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`)
  .join('\n')}
counter = 0
math.randomseed(os.time())
request = function()
  counter = counter + 1
  ${requestLua}
end
done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format('WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "non2xx": %d, "errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
`,
  );
  return new Promise((resolve, reject) => {
    execFile('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, url], { maxBuffer: 1 << 20 }, (error, stdout) => {
      if (error) return reject(error);
      const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
      if (!line) return reject(new Error(`unexpected wrk output: ${stdout}`));
      const r = JSON.parse(line.slice('WRK_JSON '.length)) as { requests: number; duration_us: number; p50_us: number; p99_us: number; non2xx: number; errors: number };
      resolve({ requests: r.requests, rps: r.requests / (r.duration_us / 1e6), p50: r.p50_us / 1000, p99: r.p99_us / 1000, non2xx: r.non2xx, errors: r.errors });
    });
  });
}
