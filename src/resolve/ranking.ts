/** What ranking looks at for a binding (version-level figures are the same for all of one version's bindings). */
export interface RankableBinding {
  id: number;
  slo_ok: boolean;
  success_rate: number | null;
  avg_latency_ms: number | null;
  cost_per_1k: number | null;
}

const nullsLast = (a: number | null, b: number | null, direction: 1 | -1): number => {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return (a - b) * direction;
};

/**
 * The routing order: SLO ok first, then higher success rate, then lower latency, then lower cost
 * (unknown values last), then lower id, so the order is total and stable.
 */
export function compareForRouting(a: RankableBinding, b: RankableBinding): number {
  return (
    Number(b.slo_ok) - Number(a.slo_ok) ||
    nullsLast(a.success_rate, b.success_rate, -1) ||
    nullsLast(a.avg_latency_ms, b.avg_latency_ms, 1) ||
    nullsLast(a.cost_per_1k, b.cost_per_1k, 1) ||
    a.id - b.id
  );
}

export function rankForRouting<T extends RankableBinding>(bindings: T[]): (T & { rank: number })[] {
  return [...bindings].sort(compareForRouting).map((binding, index) => ({ ...binding, rank: index + 1 }));
}
