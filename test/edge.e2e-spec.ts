import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSuiteDatabase, dropDatabase } from './setup/test-database';
import { makeModel } from './support/factories';
import { databaseEnv, ServiceProcess } from './support/service-process';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Milliseconds from connecting to the end of the response. */
  elapsedMs: number;
}

/** Sends raw bytes (what a hostile or broken client sends) and reads the response until the connection closes. */
function raw(port: number, chunks: (string | { pauseMs: number })[]): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.setTimeout(15_000, () => socket.destroy(new Error(`no response in 15 s: ${JSON.stringify(data.slice(0, 200))}`)));
    socket.on('close', () => {
      const [head, ...body] = data.split('\r\n\r\n');
      const [statusLine, ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: body.join('\r\n\r\n'), elapsedMs: Date.now() - started });
    });
    socket.on('connect', async () => {
      for (const chunk of chunks) {
        if (typeof chunk === 'string') socket.write(chunk);
        else await sleep(chunk.pauseMs, undefined, { ref: false });
      }
    });
  });
}

function expectRawProblem(response: RawResponse, status: number, code: string, notEchoing?: string) {
  expect({ status: response.status, type: response.headers['content-type'] }).toEqual({ status, type: expect.stringMatching(/^application\/problem\+json/) });
  const problem = JSON.parse(response.body);
  expect(problem).toMatchObject({ type: `/problems/${code}`, status, code, request_id: expect.any(String) });
  if (notEchoing) expect(response.body).not.toContain(notEchoing);
  return problem;
}

describe('a hardened edge (the service as a process)', () => {
  let database: string;
  let service: ServiceProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createSuiteDatabase('edge');
    env = databaseEnv(database);
    service = await ServiceProcess.start({ ...env, REQUEST_TIMEOUT_MS: '1000' });
    await service.waitFor('/health/ready', 200, 30_000);
  });
  afterAll(async () => {
    await service.stop();
    await dropDatabase(database);
  });

  it('answers oversized headers with 431 and an oversized URI with 414, as problem+json that does not echo them', async () => {
    const marker = 'x'.repeat(20_000);
    expectRawProblem(await raw(service.port, [`GET /models HTTP/1.1\r\nHost: x\r\nX-Big: ${marker}\r\n\r\n`]), 431, 'request-header-fields-too-large', 'xxxxxxxx');
    expectRawProblem(await raw(service.port, [`GET /models?q=${marker} HTTP/1.1\r\nHost: x\r\n\r\n`]), 414, 'uri-too-long', 'xxxxxxxx');
    expectRawProblem(await raw(service.port, [`GET /models/${'7'.repeat(300)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]), 414, 'uri-too-long', '7777777777');
  });

  it("turns Fastify's own errors and malformed HTTP into problem+json without the input", async () => {
    expectRawProblem(await raw(service.port, ['GET /models/%E0%A4%A-secret HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']), 400, 'bad-request', 'secret');
    expectRawProblem(await raw(service.port, ['GET /models HTTP/1.1\r\nHost: x\r\nBad Header secret\r\n\r\n']), 400, 'bad-request', 'secret');
    expectRawProblem(await raw(service.port, ['POST /models HTTP/1.1\r\nHost: x\r\nContent-Type: text/secret\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab']), 415, 'unsupported-media-type', 'secret');
  });

  it('cuts off a request whose body stalls after REQUEST_TIMEOUT_MS with 408', async () => {
    const body = JSON.stringify(makeModel());
    const response = await raw(service.port, [
      `POST /models HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
      { pauseMs: 4_000 },
    ]);
    expectRawProblem(response, 408, 'request-timeout');
    expect(response.elapsedMs).toBeGreaterThanOrEqual(900);
    expect(response.elapsedMs).toBeLessThan(3_000);
    expect(response.headers.connection).toBe('close');
    expect(service.running).toBe(true);
  });

  it('a stalled upload cannot hold a graceful shutdown: it gets a 408 and the process exits 0 before SHUTDOWN_TIMEOUT_MS', async () => {
    const stopping = await ServiceProcess.start({ ...env, SHUTDOWN_TIMEOUT_MS: '5000' });
    await stopping.waitFor('/health/ready', 200, 30_000);
    const body = JSON.stringify(makeModel());
    const stalled = raw(stopping.port, [`POST /models HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`, { pauseMs: 30_000 }]);
    await sleep(300);
    const signalled = Date.now();
    stopping.signal('SIGTERM');
    const exitCode = await stopping.exited;
    expect({ exitCode, logs: exitCode === 0 ? '' : stopping.logText() }).toEqual({ exitCode: 0, logs: '' });
    expect(Date.now() - signalled).toBeLessThan(5_000);
    expectRawProblem(await stalled, 408, 'request-timeout');
  });

  it('logs AUTH_REQUIRED=false at start-up, and /metrics has no command line', async () => {
    expect(await service.waitForLog((line) => String(line.msg).includes('AUTH_REQUIRED=false'))).toMatchObject({ level: 'warn' });
    const metrics = await (await fetch(service.url('/metrics'))).text();
    expect(metrics).toMatch(/^target_info\{/m);
    expect(metrics).not.toMatch(/process_command|process_executable_path|process_owner|main\.js/);
  });
});
