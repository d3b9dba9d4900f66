import { errorFor } from './problem';

/** What a call may resolve to: the shape of openapi-fetch's result, whatever the operation. */
export type AnyResult = { data?: unknown; error?: unknown; response: Response };

/** The data of the successful branch of a call's result (undefined for a 204). */
export type DataOf<R> = R extends { data: infer Data; error?: never } ? Data : never;

/** The data of a successful call; anything else is thrown as a ProblemError (or RegistryError). */
export async function unwrap<R extends AnyResult>(pending: Promise<R>): Promise<DataOf<R>> {
  const result = await pending;
  if (result.response.ok) return result.data as DataOf<R>;
  throw errorFor(result.response, result.error);
}

/** The ETag of a response, if it has one. */
export function etagOf(result: { response: Response }): string | undefined {
  return result.response.headers.get('etag') ?? undefined;
}

/** The data of a successful call with its ETag (for a later If-Match or If-None-Match). */
export async function withEtag<R extends AnyResult>(pending: Promise<R>): Promise<{ data: DataOf<R>; etag: string | undefined }> {
  const result = await pending;
  return { data: await unwrap(Promise.resolve(result)), etag: etagOf(result) };
}

/** `params.header` for a write that must not overwrite someone else's change (412 if the resource changed). */
export const ifMatch = (etag: string) => ({ 'If-Match': etag });

/** `params.header` for a read that may answer 304 while your copy is current. */
export const ifNoneMatch = (etag: string) => ({ 'If-None-Match': etag });

export type Revalidated<Data> = { modified: false; etag: string } | { modified: true; data: Data; etag: string | undefined };

/**
 * A conditional read sent with {@link ifNoneMatch}: `modified: false` when the service answered 304
 * (your copy is current), otherwise the new data and its ETag.
 */
export async function revalidate<R extends AnyResult>(pending: Promise<R>, etag: string): Promise<Revalidated<DataOf<R>>> {
  const result = await pending;
  if (result.response.status === 304) return { modified: false, etag: etagOf(result) ?? etag };
  return { modified: true, data: await unwrap(Promise.resolve(result)), etag: etagOf(result) };
}

/** A page of a keyset-paginated list. */
export interface Page<Item> {
  items: Item[];
  next_page_token: string | null;
}

/**
 * Every item of a keyset-paginated list, fetching pages as the loop needs them. `fetchPage` receives
 * the page token to spread into the query (`{}` for the first page):
 *
 *     for await (const version of paginate((page) => api.GET('/versions', { params: { query: { model_id: 1, ...page } } }))) { … }
 */
export async function* paginate<R extends AnyResult & { data?: Page<unknown> }>(
  fetchPage: (page: { page_token?: string }) => Promise<R>,
): AsyncGenerator<DataOf<R> extends Page<infer Item> ? Item : never, void, undefined> {
  let page: { page_token?: string } = {};
  for (;;) {
    const { items, next_page_token } = (await unwrap(fetchPage(page))) as Page<DataOf<R> extends Page<infer Item> ? Item : never>;
    yield* items;
    if (next_page_token === null) return;
    page = { page_token: next_page_token };
  }
}
