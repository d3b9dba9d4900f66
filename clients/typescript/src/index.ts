import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, paths } from './generated/schema';
import { DEFAULT_RETRY, retryingFetch, type RetryPolicy } from './retry';

export type { components, operations, paths } from './generated/schema';
export { errorFor, isProblem, ProblemError, RegistryError, type Problem, type ProblemCode, type ProblemOf } from './problem';
export { etagOf, ifMatch, ifNoneMatch, paginate, revalidate, unwrap, withEtag, type AnyResult, type DataOf, type Page, type Revalidated } from './results';
export { DEFAULT_RETRY, retryAfterMs, retryingFetch, type RetryPolicy } from './retry';

/** Every schema of the API, by name: `Schemas['CreateModel']`, `Schemas['VersionResponse']`, … */
export type Schemas = components['schemas'];
export type Model = Schemas['ModelResponse'];
export type Version = Schemas['VersionResponse'];
export type Binding = Schemas['BindingResponse'];
export type Alias = Schemas['AliasResponse'];
export type Resolved = Schemas['ResolveResponse'];

export interface RegistryClientOptions {
  /** Where the service is, e.g. `https://registry.example.com` or `http://localhost:8003`. */
  baseUrl: string;
  /** The API key sent as `Authorization: Bearer …`; a function is asked before every request (for rotation). */
  token?: string | (() => string | undefined | Promise<string | undefined>);
  /** Retries of idempotent requests on 429 and 503 (Retry-After honoured); `false` turns them off. */
  retry?: Partial<RetryPolicy> | false;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** The fetch to use (default: the global one). */
  fetch?: (request: Request) => Promise<Response>;
}

/** The generated, fully typed client: `GET`, `POST`, `PUT`, `DELETE` by path, with typed params, bodies, data and errors. */
export type RegistryClient = Client<paths>;

/**
 * A client for the Model Registry Service. Methods return `{ data, error, response }` as
 * openapi-fetch does; wrap a call in {@link unwrap} to get the data or a thrown, typed ProblemError.
 */
export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  const policy: RetryPolicy = options.retry === false ? { ...DEFAULT_RETRY, retries: 0 } : { ...DEFAULT_RETRY, ...options.retry };
  const baseFetch = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    ...(options.headers ? { headers: options.headers } : {}),
    fetch: retryingFetch(baseFetch, policy),
  });
  const { token } = options;
  if (token !== undefined) {
    const authorization: Middleware = {
      async onRequest({ request }) {
        const value = typeof token === 'function' ? await token() : token;
        if (value !== undefined && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${value}`);
        return request;
      },
    };
    client.use(authorization);
  }
  return client;
}
