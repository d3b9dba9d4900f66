import { createHash } from 'node:crypto';
import { RequestValidationError } from '../errors/application.error';

/** Where the previous page ended: the last row's sort value and id, plus what query it belongs to. */
export interface PageCursor {
  /** Sort key name (e.g. `-created_at`). */
  sort: string;
  /** Last row's sort value, as text (timestamps in ISO-8601, numbers incl. Infinity as strings). */
  value: string;
  id: number;
}

interface TokenBody {
  s: string;
  v: string;
  i: number;
  f: string;
}

/** A short fingerprint of the filters, so a token cannot be replayed against a different query. */
export function filterFingerprint(filters: Record<string, unknown>): string {
  const canonical = JSON.stringify(
    Object.keys(filters)
      .filter((key) => filters[key] !== undefined)
      .sort()
      .map((key) => [key, filters[key]]),
  );
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 12);
}

export function encodePageToken(cursor: PageCursor, fingerprint: string): string {
  const body: TokenBody = { s: cursor.sort, v: cursor.value, i: cursor.id, f: fingerprint };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

const invalid = (message: string) => new RequestValidationError([{ field: 'page_token', message }]);

/**
 * Opaque to clients; validated strictly here because it is client input: a token that was tampered
 * with, or that belongs to another sort order or other filters, is a 400, never a 500.
 */
export function decodePageToken(token: string, sort: string, fingerprint: string): PageCursor {
  let body: Partial<TokenBody>;
  try {
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<TokenBody>;
  } catch {
    throw invalid('is not a valid page token');
  }
  if (
    body === null ||
    typeof body !== 'object' ||
    typeof body.s !== 'string' ||
    typeof body.v !== 'string' ||
    typeof body.f !== 'string' ||
    !Number.isSafeInteger(body.i) ||
    (body.i as number) < 1 ||
    body.v.length > 1100
  ) {
    throw invalid('is not a valid page token');
  }
  if (body.s !== sort || body.f !== fingerprint) {
    throw invalid('belongs to a different query (sort or filters changed); start again without page_token');
  }
  return { sort: body.s, value: body.v, id: body.i as number };
}
