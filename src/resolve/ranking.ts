/** What a binding charges, as far as ranking is concerned. */
export interface RankablePricing {
  input_per_1m_tokens: number;
  output_per_1m_tokens: number;
  currency: string;
}

/** What ranking looks at for a binding (version-level figures are the same for all of one version's bindings). */
export interface RankableBinding {
  id: number;
  slo_ok: boolean;
  success_rate: number | null;
  avg_latency_ms: number | null;
  cost_per_1k: number | null;
  pricing?: RankablePricing | null;
}

const nullsLast = (a: number | null, b: number | null, direction: 1 | -1): number => {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return (a - b) * direction;
};

/** A price in `currency`, or null: amounts in different currencies are not compared. */
const priceIn = (binding: RankableBinding, currency: string, part: 'input_per_1m_tokens' | 'output_per_1m_tokens'): number | null =>
  binding.pricing && binding.pricing.currency === currency ? binding.pricing[part] : null;

/**
 * The routing order: SLO ok first, then higher success rate, then lower latency, then lower version
 * cost, then the cheaper binding (lower input, then output price per 1M tokens in `currency`), with
 * unknown values last at every step, then lower id, so the order is total and stable.
 */
export function compareForRouting(a: RankableBinding, b: RankableBinding, currency = 'USD'): number {
  return (
    Number(b.slo_ok) - Number(a.slo_ok) ||
    nullsLast(a.success_rate, b.success_rate, -1) ||
    nullsLast(a.avg_latency_ms, b.avg_latency_ms, 1) ||
    nullsLast(a.cost_per_1k, b.cost_per_1k, 1) ||
    nullsLast(priceIn(a, currency, 'input_per_1m_tokens'), priceIn(b, currency, 'input_per_1m_tokens'), 1) ||
    nullsLast(priceIn(a, currency, 'output_per_1m_tokens'), priceIn(b, currency, 'output_per_1m_tokens'), 1) ||
    a.id - b.id
  );
}

/** Sorts `bindings` into routing order where they stand and numbers them (1 is preferred); returns the same array. */
export function rankInPlace<T extends RankableBinding & { rank: number }>(bindings: T[], currency = 'USD'): T[] {
  bindings.sort((a, b) => compareForRouting(a, b, currency));
  for (let i = 0; i < bindings.length; i++) bindings[i].rank = i + 1;
  return bindings;
}

/** The bindings in routing order, each a copy with its rank; the input is left as it is. */
export function rankForRouting<T extends RankableBinding>(bindings: T[], currency = 'USD'): (T & { rank: number })[] {
  return rankInPlace(bindings.map((binding) => ({ ...binding, rank: 0 })), currency);
}
