import { isIP } from 'node:net';
import { HostResolver } from '../src/webhooks/webhook-url-policy';
import { expectProblem } from './support/problem';
import { create, makeModel } from './support/factories';
import { createTestApp, type TestApp } from './support/test-app';
import { createTestPki, type TestPki } from './support/tls';
import { WebhookReceiver } from './support/webhook-receiver';

/** DNS as the tests say; a name it does not know does not resolve. */
class FakeResolver {
  readonly names = new Map<string, string[]>([
    ['hooks.example.test', ['93.184.216.34']],
    ['private.example.test', ['10.1.2.3']],
    ['metadata.example.test', ['169.254.169.254']],
    ['v6private.example.test', ['fd00::1']],
    ['loopback.example.test', ['127.0.0.1']],
    ['mapped.example.test', ['::ffff:192.168.1.1']],
    ['mixed.example.test', ['93.184.216.34', '10.0.0.7']],
    ['rebind.example.test', ['93.184.216.34']],
  ]);

  async resolve(hostname: string) {
    const addresses = this.names.get(hostname);
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: isIP(address) }));
  }
}

describe('webhooks: no requests to private networks (WEBHOOK_ALLOW_PRIVATE_NETWORKS off)', () => {
  let sut: TestApp;
  let pki: TestPki;
  let receiver: WebhookReceiver;
  const dns = new FakeResolver();

  beforeAll(async () => {
    pki = createTestPki();
    receiver = await new WebhookReceiver(pki.server).start();
    sut = await createTestApp('webhooks-ssrf', {
      env: {
        WEBHOOK_DELIVERY_ENABLED: 'true',
        WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false',
        WEBHOOK_POLL_INTERVAL_MS: '50',
        WEBHOOK_RETRY_SCALE: '0.001',
        WEBHOOK_CA_FILE: pki.caFile,
        AUTH_REQUIRED: 'false',
        RATE_LIMIT_PER_MINUTE: '0',
      },
      overrides: [{ provide: HostResolver, useValue: dns }],
    });
  });
  afterAll(async () => {
    await sut?.close();
    await receiver?.close();
    pki?.dispose();
  });

  it.each([
    ['http://hooks.example.test/hook', 'must be an https URL (plain http only with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true, for development)'],
    ['https://127.0.0.1/hook', 'points at 127.0.0.1, a loopback address: webhooks may only target public addresses'],
    ['https://127.1/hook', 'points at 127.0.0.1, a loopback address'],
    ['https://2130706433/hook', 'points at 127.0.0.1, a loopback address'],
    ['https://017700000001/hook', 'points at 127.0.0.1, a loopback address'],
    ['https://0177.0.0.1/hook', 'points at 127.0.0.1, a loopback address'],
    ['https://0x7f.0.0.1/hook', 'points at 127.0.0.1, a loopback address'],
    ['https://0x7f000001/hook', 'points at 127.0.0.1, a loopback address'],
    ['https://localhost/hook', 'host localhost is loopback'],
    ['https://api.localhost/hook', 'host api.localhost is loopback'],
    ['https://0.0.0.0/hook', 'points at 0.0.0.0, the unspecified address'],
    ['https://0/hook', 'points at 0.0.0.0, the unspecified address'],
    ['https://10.0.0.1/hook', 'points at 10.0.0.1, a private address'],
    ['https://172.16.5.4/hook', 'points at 172.16.5.4, a private address'],
    ['https://192.168.0.1/hook', 'points at 192.168.0.1, a private address'],
    ['https://100.64.0.1/hook', 'points at 100.64.0.1, a carrier-grade NAT address'],
    ['https://169.254.169.254/latest/meta-data/', 'points at 169.254.169.254, a link-local address (where cloud metadata services answer)'],
    ['https://[::1]/hook', 'points at ::1, a loopback address'],
    ['https://[::]/hook', 'points at ::, the unspecified address'],
    ['https://[fc00::1]/hook', 'points at fc00::1, a unique-local (private) address'],
    ['https://[fd00:ec2::254]/hook', 'points at fd00:ec2::254, a unique-local (private) address'],
    ['https://[fe80::1]/hook', 'points at fe80::1, a link-local address (where cloud metadata services answer)'],
    ['https://[::ffff:127.0.0.1]/hook', 'points at 127.0.0.1, a loopback address'],
    ['https://[::ffff:a9fe:a9fe]/hook', 'points at 169.254.169.254, a link-local address (where cloud metadata services answer)'],
    ['https://[64:ff9b::a00:1]/hook', 'points at 64:ff9b::a00:1, a rfc6052 address (not public)'],
    ['https://private.example.test/hook', 'host private.example.test resolves to 10.1.2.3, a private address'],
    ['https://metadata.example.test/hook', 'host metadata.example.test resolves to 169.254.169.254, a link-local address (where cloud metadata services answer)'],
    ['https://v6private.example.test/hook', 'host v6private.example.test resolves to fd00::1, a unique-local (private) address'],
    ['https://loopback.example.test/hook', 'host loopback.example.test resolves to 127.0.0.1, a loopback address'],
    ['https://mapped.example.test/hook', 'host mapped.example.test resolves to 192.168.1.1, a private address'],
    ['https://mixed.example.test/hook', 'host mixed.example.test resolves to 10.0.0.7, a private address'],
    ['https://nowhere.example.test/hook', 'host nowhere.example.test does not resolve'],
    ['https://user:secret@hooks.example.test/hook', 'must not contain credentials: receivers authenticate deliveries by their signature'],
  ])('refuses %s at creation (400)', async (url, message) => {
    const problem = expectProblem(await sut.http.post('/webhooks').send({ url, events: ['*'] }), 400, 'validation-error');
    expect(problem.errors).toEqual([{ field: 'url', message: expect.stringContaining(message) }]);
  });

  it('accepts public hosts, and refuses a change of URL to a private one', async () => {
    const byName = await create(sut.http, '/webhooks', { url: 'https://hooks.example.test/hook', events: ['*'], enabled: false });
    await create(sut.http, '/webhooks', { url: 'https://[2606:4700:4700::1111]/hook', events: ['*'], enabled: false });
    const problem = expectProblem(await sut.http.put(`/webhooks/${byName.id}`).send({ url: 'https://169.254.169.254/' }), 400, 'validation-error');
    expect(problem.errors![0].field).toBe('url');
    expect((await sut.http.get(`/webhooks/${byName.id}`).expect(200)).body.url).toBe('https://hooks.example.test/hook');
    expect((await sut.db.query(`SELECT count(*)::int AS n FROM webhooks WHERE url LIKE '%169.254%' OR url LIKE '%127.%' OR url LIKE '%localhost%'`)).rows[0].n).toBe(0);
  });

  it('checks the address actually connected to: a name that resolves elsewhere at delivery time (DNS rebinding) is refused there', async () => {
    const url = `https://rebind.example.test:${receiver.port}/hook`;
    const hook = await create(sut.http, '/webhooks', { url, events: ['*'] });
    // Public when checked; loopback — where the receiver listens — when delivering.
    dns.names.set('rebind.example.test', ['127.0.0.1']);

    const test = await sut.http.post(`/webhooks/${hook.id}/test`).expect(200);
    expect(test.body).toMatchObject({ status: 'failed', last_response_code: null, last_error: 'blocked: rebind.example.test resolves to 127.0.0.1, a loopback address' });

    const model = await create(sut.http, '/models', makeModel());
    let log: { items: Record<string, any>[] } = { items: [] };
    for (let i = 0; i < 100; i++) {
      log = (await sut.http.get(`/webhooks/${hook.id}/deliveries`).query({ status: 'pending' }).expect(200)).body;
      if (log.items[0]?.attempts >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(log.items[0]).toMatchObject({ event_id: expect.any(Number), event_type: 'model.created', last_error: 'blocked: rebind.example.test resolves to 127.0.0.1, a loopback address' });
    expect(log.items[0].attempts).toBeGreaterThanOrEqual(2);
    expect(log.items[0].event_id).toBe((await sut.db.query('SELECT id FROM events WHERE model_id = $1', [model.id])).rows[0].id);
    expect(receiver.requests).toEqual([]);
    await sut.http.delete(`/webhooks/${hook.id}`).expect(204);
  });
});
