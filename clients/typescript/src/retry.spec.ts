import { retryAfterMs, retryingFetch, type RetryPolicy } from './retry';

const policy: RetryPolicy = { retries: 2, baseDelayMs: 1, maxDelayMs: 1_000, statuses: [429, 503] };

/** A fetch that answers from a script and records what it was sent. */
function scripted(...answers: (() => Response)[]) {
  const seen: { method: string; body: string }[] = [];
  const fetch = async (request: Request) => {
    seen.push({ method: request.method, body: await request.text() });
    const next = answers.shift();
    if (!next) throw new Error('no more answers');
    return next();
  };
  return { fetch, seen };
}

const unavailable = (retryAfter?: string) => () => new Response('{}', { status: 503, headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter } });
const ok = () => new Response('{"ok":true}', { status: 200 });

describe('retryingFetch', () => {
  it('repeats an idempotent request on 503 and 429, with its body, until it succeeds', async () => {
    const { fetch, seen } = scripted(unavailable('0'), () => new Response('', { status: 429, headers: { 'retry-after': '0' } }), ok);
    const sut = retryingFetch(fetch, policy);
    const response = await sut(new Request('http://registry.test/models/1', { method: 'PUT', body: '{"task":"chat"}' }));
    expect(response.status).toBe(200);
    expect(seen).toEqual([1, 2, 3].map(() => ({ method: 'PUT', body: '{"task":"chat"}' })));
  });

  it('never repeats a POST', async () => {
    const { fetch, seen } = scripted(unavailable('0'), ok);
    expect((await retryingFetch(fetch, policy)(new Request('http://registry.test/bindings/1/usage', { method: 'POST', body: '{}' }))).status).toBe(503);
    expect(seen).toHaveLength(1);
  });

  it('returns the last answer when the retries are spent, or when Retry-After asks for longer than allowed', async () => {
    const spent = scripted(unavailable('0'), unavailable('0'), unavailable('0'));
    expect((await retryingFetch(spent.fetch, policy)(new Request('http://registry.test/models'))).status).toBe(503);
    expect(spent.seen).toHaveLength(3);
    const tooLong = scripted(unavailable('3600'), ok);
    expect((await retryingFetch(tooLong.fetch, policy)(new Request('http://registry.test/models'))).status).toBe(503);
    expect(tooLong.seen).toHaveLength(1);
  });

  it('waits as long as Retry-After says', async () => {
    const { fetch } = scripted(unavailable('1'), ok);
    const started = Date.now();
    expect((await retryingFetch(fetch, { ...policy, maxDelayMs: 5_000 })(new Request('http://registry.test/models'))).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('stops waiting when the request is aborted', async () => {
    const { fetch } = scripted(unavailable('1'), ok);
    const controller = new AbortController();
    const pending = retryingFetch(fetch, { ...policy, maxDelayMs: 5_000 })(new Request('http://registry.test/models', { signal: controller.signal }));
    setTimeout(() => controller.abort(new Error('gave up')), 20);
    await expect(pending).rejects.toThrow('gave up');
  });
});

describe('retryAfterMs', () => {
  it('reads delta-seconds and HTTP dates, and ignores garbage', () => {
    expect(retryAfterMs('5')).toBe(5_000);
    expect(retryAfterMs(new Date(10_000 + 3_000).toUTCString(), 10_000)).toBe(3_000);
    expect(retryAfterMs(new Date(0).toUTCString(), 10_000)).toBe(0);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});
