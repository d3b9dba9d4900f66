import Redis from 'ioredis';
import { authEnv, bearer, BOOTSTRAP_KEY, createKey } from './support/auth';
import { expectProblem } from './support/problem';
import { databaseEnv, freePort, ServiceProcess } from './support/service-process';
import { createTestApp, type TestApp } from './support/test-app';
import { createSuiteDatabase, dropDatabase } from './setup/test-database';

const REDIS_URL = 'redis://127.0.0.1:6379';

describe('rate limits', () => {
  describe('in one replica', () => {
    let sut: TestApp;
    beforeAll(async () => {
      sut = await createTestApp('rate_limit', { env: authEnv({ RATE_LIMIT_PER_MINUTE: '5' }) });
    });
    afterAll(() => sut.close());

    it('gives each key RATE_LIMIT_PER_MINUTE requests a minute, then 429 problem+json with Retry-After and RateLimit-* headers', async () => {
      const [a, b] = [await createKey(sut.http, { scopes: ['registry:read'] }), await createKey(sut.http, { scopes: ['registry:read'] })];
      for (let i = 0; i < 5; i++) {
        const response = await sut.http.get('/models').set(bearer(a.key)).expect(200);
        expect(response.headers).toMatchObject({ 'ratelimit-limit': '5', 'ratelimit-remaining': String(4 - i) });
        expect(Number(response.headers['ratelimit-reset'])).toBeGreaterThan(0);
      }
      const refused = await sut.http.get('/models').set(bearer(a.key));
      const problem = expectProblem(refused, 429, 'too-many-requests');
      expect(problem.detail).toMatch(/5 requests per minute/);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(refused.headers).toMatchObject({ 'ratelimit-limit': '5', 'ratelimit-remaining': '0', 'ratelimit-reset': refused.headers['retry-after'] });
      // Another key has its own budget.
      await sut.http.get('/models').set(bearer(b.key)).expect(200);
    });

    it('counts anonymous callers, and failed authentications, by client IP, ignoring X-Forwarded-For', async () => {
      const fake = `mrk_000000000000_${'A'.repeat(43)}`;
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await sut.http.get('/models').set(bearer(fake)).set('x-forwarded-for', `10.0.0.${i}`)).status);
      // The key creations of the first test used the bootstrap key's own budget, not the IP's.
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    });

    it('never limits probes and scrapes', async () => {
      for (let i = 0; i < 8; i++) await sut.http.get('/health/live').expect(200);
      for (let i = 0; i < 8; i++) await sut.http.get('/metrics').expect(200);
    });
  });

  it('honours X-Forwarded-For only with TRUST_PROXY', async () => {
    const sut = await createTestApp('rate_limit_proxy', { env: { RATE_LIMIT_PER_MINUTE: '2', TRUST_PROXY: 'true' } });
    try {
      for (const client of ['192.0.2.1', '192.0.2.2']) {
        await sut.http.get('/problems').set('x-forwarded-for', client).expect(200);
        await sut.http.get('/problems').set('x-forwarded-for', client).expect(200);
        expectProblem(await sut.http.get('/problems').set('x-forwarded-for', client), 429, 'too-many-requests');
      }
    } finally {
      await sut.close();
    }
  });

  it('lets requests through, uncounted, while Redis is unreachable', async () => {
    const sut = await createTestApp('rate_limit_no_redis', { env: { RATE_LIMIT_PER_MINUTE: '1', RATE_LIMIT_REDIS_URL: `redis://127.0.0.1:${await freePort()}` } });
    try {
      for (let i = 0; i < 3; i++) await sut.http.get('/models').expect(200);
    } finally {
      await sut.close();
    }
  });

  it('two replicas sharing Redis hold the combined limit within 5 %', async () => {
    const limit = 200;
    const prefix = `mr-test:${process.pid}-${Date.now()}:`;
    const redis = new Redis(REDIS_URL, { lazyConnect: true });
    await redis.connect();
    const database = await createSuiteDatabase('rate_limit_shared');
    const env = authEnv({
      ...databaseEnv(database),
      RATE_LIMIT_PER_MINUTE: String(limit),
      RATE_LIMIT_REDIS_URL: REDIS_URL,
      RATE_LIMIT_REDIS_PREFIX: prefix,
    });
    const replicas = await Promise.all([ServiceProcess.start(env), ServiceProcess.start(env)]);
    try {
      await Promise.all(replicas.map((replica) => replica.waitFor('/health/ready', 200, 30_000)));
      const created = await fetch(replicas[0].url('/api-keys'), {
        method: 'POST',
        headers: { ...bearer(BOOTSTRAP_KEY), 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'shared-budget', scopes: ['registry:read'] }),
      });
      expect(created.status).toBe(201);
      const { key } = (await created.json()) as { key: string };

      const counts = new Map<number, number>();
      let next = 0;
      const total = 2 * limit;
      // 16 clients at once, alternating replicas.
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < total) {
            const replica = replicas[next++ % 2];
            const response = await fetch(replica.url('/models?limit=1'), { headers: bearer(key) });
            await response.arrayBuffer();
            counts.set(response.status, (counts.get(response.status) ?? 0) + 1);
          }
        }),
      );
      const allowed = counts.get(200) ?? 0;
      expect(allowed + (counts.get(429) ?? 0)).toBe(total);
      expect(Math.abs(allowed - limit)).toBeLessThanOrEqual(limit * 0.05);
      expect(await redis.keys(`${prefix}*`)).not.toEqual([]);
    } finally {
      await Promise.all(replicas.map((replica) => replica.stop()));
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      await dropDatabase(database);
    }
  });
});
