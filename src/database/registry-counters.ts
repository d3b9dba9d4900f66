import type { Queryable } from './sql';

/** Counter values by metric, then by key ('' for unkeyed metrics). Maintained by triggers (see the RegistryCounters migration). */
export type CounterValues = Map<string, Map<string, number>>;

/** Counter totals (summed over shards) for metrics matching any of the LIKE patterns in $1. */
export const COUNTERS_SQL = `SELECT metric, key, sum(value) AS value FROM registry_counters
  WHERE metric LIKE ANY($1::text[]) GROUP BY metric, key HAVING sum(value) <> 0`;

export async function readCounters(db: Queryable, prefixes: string[]): Promise<CounterValues> {
  const rows: { metric: string; key: string; value: number }[] = await db.query(COUNTERS_SQL, [prefixes.map((prefix) => `${prefix}%`)]);
  const values: CounterValues = new Map();
  for (const row of rows) {
    if (!values.has(row.metric)) values.set(row.metric, new Map());
    values.get(row.metric)!.set(row.key, row.value);
  }
  return values;
}

/** An unkeyed counter, or 0. */
export function counter(values: CounterValues, metric: string): number {
  return values.get(metric)?.get('') ?? 0;
}

/** A keyed counter as a plain object; the empty key (a NULL column) is reported as `(none)`. */
export function counterBreakdown(values: CounterValues, metric: string): Record<string, number> {
  return Object.fromEntries([...(values.get(metric) ?? new Map<string, number>()).entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, value]) => [key === '' ? '(none)' : key, value]));
}
