import { retryAfterMs } from '@model-registry/client';
import { UnreachableError } from './errors';

/** How the CLI retries (see README: "Retries"). */
export interface RetrySettings {
  /** Retries after the first attempt. */
  retries: number;
  /** The most time spent waiting between attempts, in total. */
  budgetMs: number;
  /** How long one attempt may wait for the response headers (0: no limit). */
  timeoutMs: number;
  /** The first backoff delay without Retry-After, doubled on each retry up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetrySettings = { retries: 3, budgetMs: 10_000, timeoutMs: 30_000, baseDelayMs: 500, maxDelayMs: 4_000 };

/** Methods that may be repeated (RFC 9110 §9.2.2). */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
/** POSTs the service makes idempotent: a version registration replayed answers the existing version. */
const IDEMPOTENT_POSTS = [/^\/versions\/?$/];

export function isIdempotent(request: Request): boolean {
  if (IDEMPOTENT_METHODS.has(request.method)) return true;
  const path = new URL(request.url).pathname;
  return request.method === 'POST' && IDEMPOTENT_POSTS.some((pattern) => pattern.test(path));
}

/** Connection failures where the request certainly never reached the service: safe to repeat for any method. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function errorCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Why an attempt failed, in a few words: "connect ECONNREFUSED 127.0.0.1:8003", "timed out after 30 s". */
function describe(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000} s`;
  const cause = (error as { cause?: { message?: string } }).cause;
  return cause?.message ?? (error instanceof Error ? error.message : String(error));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Statuses that mean "not now": the service is overloaded, unavailable, or a proxy cannot reach it. */
const UNAVAILABLE = new Set([502, 503, 504]);

/**
 * The fetch the CLI gives the typed client. It repeats a request on a connection failure or a
 * timeout, and on 429 / 502 / 503 / 504, waiting as long as Retry-After says or backing off
 * exponentially; at most `retries` times and `budgetMs` of waiting in all. Only requests that may be
 * repeated are: idempotent ones, any request whose connection was refused, any request answered 429
 * (the rate limit runs before the request does anything). When every attempt failed to connect, it
 * throws UnreachableError; otherwise it returns the last answer.
 */
export function retryingFetch(settings: RetrySettings, base: (request: Request) => Promise<Response> = (request) => globalThis.fetch(request)) {
  return async (request: Request): Promise<Response> => {
    const idempotent = isIdempotent(request);
    let waited = 0;
    for (let attempt = 0; ; attempt++) {
      const last = attempt >= settings.retries;
      let delay: number;
      try {
        const response = await withHeaderTimeout(base, request.clone(), settings.timeoutMs);
        const retryable = response.status === 429 || (idempotent && UNAVAILABLE.has(response.status));
        if (last || !retryable) return response;
        delay = retryAfterMs(response.headers.get('retry-after')) ?? backoff(settings, attempt);
        if (waited + delay > settings.budgetMs) return response;
        await response.body?.cancel();
      } catch (error) {
        if (request.signal.aborted) throw error;
        const repeatable = idempotent || NOT_SENT.has(errorCode(error) ?? '');
        delay = backoff(settings, attempt);
        if (last || !repeatable || waited + delay > settings.budgetMs) {
          throw new UnreachableError(`${request.method} ${new URL(request.url).origin}: ${describe(error, settings.timeoutMs)}`, attempt + 1);
        }
      }
      await sleep(delay);
      waited += delay;
    }
  };
}

function backoff(settings: RetrySettings, attempt: number): number {
  return Math.min(settings.baseDelayMs * 2 ** attempt, settings.maxDelayMs);
}

/** Limits the wait for the response headers only: a streamed body (the event stream) may then take as long as it takes. */
async function withHeaderTimeout(base: (request: Request) => Promise<Response>, request: Request, timeoutMs: number): Promise<Response> {
  if (timeoutMs <= 0) return base(request);
  const timer = new AbortController();
  const handle = setTimeout(() => timer.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
  try {
    return await base(new Request(request, { signal: AbortSignal.any([timer.signal, request.signal]) }));
  } finally {
    clearTimeout(handle);
  }
}
