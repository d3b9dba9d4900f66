import { createServer, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { webhookConfigFrom } from '../config/webhook.config';
import { parseEnvironment } from '../config/environment';
import { keptResponseBody, signatureHeader, WebhookSender } from './webhook-sender';
import type { HostResolver } from './webhook-url-policy';

describe(WebhookSender.name, () => {
  let server: Server;
  let connections = 0;
  let port: number;
  const names: Record<string, string> = { 'evil.test': '127.0.0.1', 'mapped.test': '::ffff:127.0.0.1' };
  const resolver = { resolve: async (host: string) => [{ address: names[host] ?? '203.0.113.7', family: names[host]?.includes(':') ? 6 : 4 }] } as HostResolver;
  const sender = (allowPrivate: boolean) => new WebhookSender(resolver, webhookConfigFrom(parseEnvironment({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: String(allowPrivate), WEBHOOK_TIMEOUT_MS: '2000' })));
  const message = { id: 'evt_1', body: '{"type":"model.created"}', secrets: [`whsec_${Buffer.alloc(32, 7).toString('base64')}`] };

  beforeAll(async () => {
    server = createServer((_req, res) => res.end('ok'));
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('with private networks refused, never opens a connection to one, whatever the URL says', async () => {
    const sut = sender(false);
    try {
      const results = await Promise.all(
        [`http://127.0.0.1:${port}/`, `https://127.0.0.1:${port}/`, `https://[::ffff:127.0.0.1]:${port}/`, `https://evil.test:${port}/`, `https://mapped.test:${port}/`].map((url) =>
          sut.send(url, message),
        ),
      );
      expect(results.map((r) => [r.ok, r.outcome, r.error])).toEqual([
        [false, 'connection', 'EPROTO: plain http is refused (WEBHOOK_ALLOW_PRIVATE_NETWORKS is off)'],
        [false, 'blocked', 'blocked: 127.0.0.1, a loopback address'],
        [false, 'blocked', 'blocked: 127.0.0.1, a loopback address'],
        [false, 'blocked', 'blocked: evil.test resolves to 127.0.0.1, a loopback address'],
        [false, 'blocked', 'blocked: mapped.test resolves to 127.0.0.1, a loopback address'],
      ]);
      expect(connections).toBe(0);
    } finally {
      sut.onModuleDestroy();
    }
  });

  it('with private networks allowed (development), delivers and reads the answer', async () => {
    const sut = sender(true);
    try {
      const result = await sut.send(`http://127.0.0.1:${port}/`, message);
      expect(result).toMatchObject({ ok: true, outcome: 'delivered', statusCode: 200, responseBody: 'ok', error: null });
      expect(connections).toBe(1);
    } finally {
      sut.onModuleDestroy();
    }
  });

  it('signs with every secret, each verifiable on its own', () => {
    const secrets = [`whsec_${Buffer.alloc(32, 1).toString('base64')}`, `whsec_${Buffer.alloc(32, 2).toString('base64')}`];
    const timestamp = new Date();
    const header = signatureHeader(secrets, 'evt_9', timestamp, '{}');
    expect(header.split(' ')).toHaveLength(2);
    const headers = { 'webhook-id': 'evt_9', 'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)), 'webhook-signature': header };
    for (const secret of secrets) expect(new Webhook(secret).verify('{}', headers)).toEqual({});
  });

  it('keeps at most 1 KiB of a body, as valid text without NUL', () => {
    expect(keptResponseBody(Buffer.alloc(0))).toBeNull();
    expect(keptResponseBody(Buffer.from('a\u0000b'))).toBe('ab');
    expect(Buffer.byteLength(keptResponseBody(Buffer.from('€'.repeat(1000)))!)).toBe(1023);
  });
});
