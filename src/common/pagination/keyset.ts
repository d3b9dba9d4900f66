import { decodePageToken, encodePageToken, filterFingerprint } from './page-token';

/** Adds the descending variant (`-name`) of every sort order. */
export function withDescending(sorts: SortAllowList): SortAllowList {
  return Object.fromEntries(
    Object.entries(sorts).flatMap(([name, column]) => [
      [name, column],
      [`-${name}`, column],
    ]),
  );
}

/** How one allowed sort order is expressed in SQL. `expression` is trusted SQL from an allow-list. */
export interface SortColumn {
  expression: string;
  /** The SQL type to cast the cursor value to. */
  cast: 'timestamptz' | 'float8' | 'numeric' | 'text';
}

export type SortAllowList = Record<string, SortColumn>;

export interface Page<T> {
  items: T[];
  next_page_token: string | null;
}

/** A complete, parameterised list query and the fingerprint of its filters. */
export interface ListQuery {
  sql: string;
  params: unknown[];
  fingerprint: string;
}

export interface KeysetQuery {
  /** ORDER BY clause (without the keyword) */
  orderBy: string;
  /** Extra SELECT expression giving the sort value, aliased `sort_value`. */
  sortValueSelect: string;
  /** Condition continuing after the cursor (`?` placeholders), or undefined on the first page. */
  after?: { sql: string; params: unknown[] };
}

/**
 * Keyset pagination over `(sort expression, id)`. Both keys go the same direction, so the condition is
 * a row comparison that PostgreSQL answers with an index range scan: page 5,000 costs what page 1 does.
 * `sort` is `name` or `-name` and must be a key of `allowed` (the DTO validates it).
 */
export function keyset(
  sort: string,
  allowed: SortAllowList,
  idColumn: string,
  pageToken: string | undefined,
  filters: Record<string, unknown>,
): KeysetQuery & { fingerprint: string } {
  const column = allowed[sort];
  if (!column) throw new Error(`sort ${sort} is not in the allow-list`);
  const direction = sort.startsWith('-') ? 'DESC' : 'ASC';
  const fingerprint = filterFingerprint(filters);
  const query: KeysetQuery & { fingerprint: string } = {
    orderBy: `${column.expression} ${direction}, ${idColumn} ${direction}`,
    sortValueSelect: `(${column.expression})::text AS sort_value`,
    fingerprint,
  };
  if (pageToken !== undefined) {
    const cursor = decodePageToken(pageToken, sort, fingerprint);
    const op = direction === 'ASC' ? '>' : '<';
    query.after = {
      sql: `(${column.expression}, ${idColumn}) ${op} (?::${column.cast}, ?::bigint)`,
      params: [cursor.value, cursor.id],
    };
  }
  return query;
}

/** Cuts the extra row fetched to learn whether another page exists, and builds its token. */
export function toPage<Row extends { id: number; sort_value: string }, T>(
  rows: Row[],
  limit: number,
  sort: string,
  fingerprint: string,
  map: (row: Row) => T,
): Page<T> {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const last = pageRows[pageRows.length - 1];
  return {
    items: pageRows.map(map),
    next_page_token: hasMore && last ? encodePageToken({ sort, value: last.sort_value, id: last.id }, fingerprint) : null,
  };
}
