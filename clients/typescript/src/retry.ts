/** When and how often idempotent requests are retried. */
export interface RetryPolicy {
  /** Retries after the first attempt (0 disables retrying). */
  retries: number;
  /** Delay before the first retry when the answer has no Retry-After, doubled on each retry. */
  baseDelayMs: number;
  /** The longest wait; an answer asking for longer is returned to the caller as it is. */
  maxDelayMs: number;
  /** Statuses worth retrying: the service is unavailable, or asks to slow down. */
  statuses: readonly number[];
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 3, baseDelayMs: 250, maxDelayMs: 30_000, statuses: [429, 503] };

/** Methods that may be repeated without changing the outcome (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

/** Milliseconds a Retry-After header asks for (delta-seconds or an HTTP date), if it is valid. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const wait = (ms: number, signal: AbortSignal | null) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * A fetch that repeats idempotent requests answered with 429 or 503, waiting as long as Retry-After
 * says (or backing off exponentially without one). POST is never repeated: a usage report sent twice
 * would count twice. The last answer is returned as it is when the retries are spent.
 */
export function retryingFetch(base: (request: Request) => Promise<Response>, policy: RetryPolicy): (request: Request) => Promise<Response> {
  return async (request) => {
    if (policy.retries <= 0 || !IDEMPOTENT.has(request.method)) return base(request);
    for (let attempt = 0; ; attempt++) {
      const response = await base(request.clone());
      if (attempt >= policy.retries || !policy.statuses.includes(response.status)) return response;
      const delay = retryAfterMs(response.headers.get('retry-after')) ?? policy.baseDelayMs * 2 ** attempt;
      if (delay > policy.maxDelayMs) return response;
      await response.body?.cancel();
      await wait(delay, request.signal);
    }
  };
}
