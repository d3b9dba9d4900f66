/**
 * The retention rule, as a pure function: of a model's live versions, the newest N are kept; of the
 * older ones the protected (pinned, aliased, or with an active binding) are kept too, and the rest
 * are archived. "Newest" is by creation time, ties broken by id.
 */

export interface LiveVersion {
  id: number;
  created_at: Date;
  pinned: boolean;
  aliased: boolean;
  has_active_binding: boolean;
}

export type Protection = Pick<LiveVersion, 'pinned' | 'aliased' | 'has_active_binding'>;

export const KEEP_REASONS = ['within_retention', 'pinned', 'aliased', 'active_binding'] as const;
export type KeepReason = (typeof KEEP_REASONS)[number];

export interface Classified<V> {
  kept: { version: V; reason: KeepReason }[];
  archive: V[];
}

/** Newest first: later created_at first, then higher id first. */
export function newestFirst(a: Pick<LiveVersion, 'id' | 'created_at'>, b: Pick<LiveVersion, 'id' | 'created_at'>): number {
  return b.created_at.getTime() - a.created_at.getTime() || b.id - a.id;
}

export function keepReason(rank: number, keep: number, version: Protection): KeepReason | undefined {
  if (rank <= keep) return 'within_retention';
  if (version.pinned) return 'pinned';
  if (version.aliased) return 'aliased';
  if (version.has_active_binding) return 'active_binding';
  return undefined;
}

/** Classifies one model's live versions (any order) under a retention count `keep` (≥ 1). */
export function classifyVersions<V extends LiveVersion>(live: V[], keep: number): Classified<V> {
  const result: Classified<V> = { kept: [], archive: [] };
  [...live].sort(newestFirst).forEach((version, index) => {
    const reason = keepReason(index + 1, keep, version);
    if (reason) result.kept.push({ version, reason });
    else result.archive.push(version);
  });
  return result;
}

/** Which retention count applies: the request's override, else the model's own, else the default. */
export function effectiveRetentionCount(override: number | undefined, modelCount: number | null, defaultCount: number): number {
  return override ?? modelCount ?? defaultCount;
}

/** Versions archived before this instant are purged (unless protected): exactly `days` old is kept. */
export function purgeCutoff(now: Date, days: number): Date {
  return new Date(now.getTime() - days * 24 * 60 * 60 * 1000);
}
