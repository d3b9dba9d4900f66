import { InvalidEnvironmentError, parseEnvironment } from './environment';
import { webhookConfigFrom } from './webhook.config';

describe(webhookConfigFrom.name, () => {
  it('defaults: delivery on, private networks refused, the documented timings, no key (the built-in one is used)', () => {
    expect(webhookConfigFrom(parseEnvironment({}))).toEqual({
      deliveryEnabled: true,
      allowPrivateNetworks: false,
      secretKeys: [],
      caFile: undefined,
      pollIntervalMs: 500,
      concurrency: 8,
      timeoutMs: 10_000,
      leaseMs: 60_000,
      retryScale: 1,
      deliveryRetentionDays: 30,
    });
  });

  it('reads a key list and a scale', () => {
    const sut = webhookConfigFrom(parseEnvironment({ WEBHOOK_SECRET_KEY: `${'n'.repeat(32)}, ${'o'.repeat(40)}`, WEBHOOK_RETRY_SCALE: '0.001' }));
    expect(sut.secretKeys).toEqual(['n'.repeat(32), 'o'.repeat(40)]);
    expect(sut.retryScale).toBe(0.001);
  });

  it('refuses short keys without echoing them, a zero scale, and a lease shorter than an attempt', () => {
    let error: unknown;
    try {
      parseEnvironment({ WEBHOOK_SECRET_KEY: 'too-short-secret', WEBHOOK_RETRY_SCALE: '0', WEBHOOK_TIMEOUT_MS: '10000', WEBHOOK_LEASE_MS: '5000' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidEnvironmentError);
    expect((error as InvalidEnvironmentError).problems).toEqual([
      'WEBHOOK_SECRET_KEY must be one or more comma-separated keys of at least 32 characters each (got <hidden>)',
      'WEBHOOK_RETRY_SCALE must be a number greater than 0 and at most 1000 (got "0")',
      'WEBHOOK_LEASE_MS must be at least WEBHOOK_TIMEOUT_MS + 1000 (a delivery must end before its claim lapses)',
    ]);
    expect((error as Error).message).not.toContain('too-short-secret');
  });
});
