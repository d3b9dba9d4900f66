import fc from 'fast-check';
import { compareForRouting, rankForRouting, type RankableBinding } from './ranking';

const b = (id: number, extra: Partial<RankableBinding> = {}): RankableBinding => ({ id, slo_ok: true, success_rate: 0.99, avg_latency_ms: 100, cost_per_1k: 0.01, ...extra });

describe('rankForRouting', () => {
  it('orders by SLO, then success rate, then latency, then cost, then id', () => {
    const ranked = rankForRouting([
      b(1, { slo_ok: false, success_rate: 1 }),
      b(2, { success_rate: 0.9 }),
      b(3, { avg_latency_ms: 50 }),
      b(4, { avg_latency_ms: 50, cost_per_1k: 0.001 }),
      b(5),
      b(6),
      b(7, { success_rate: null }),
      b(8, { avg_latency_ms: null }),
    ]);
    expect(ranked.map((r) => [r.id, r.rank])).toEqual([
      [4, 1],
      [3, 2],
      [5, 3],
      [6, 4],
      [8, 5],
      [2, 6],
      [7, 7],
      [1, 8],
    ]);
  });

  it('is a total order: deterministic whatever the input order (property)', () => {
    const binding = fc.record({
      id: fc.integer({ min: 1, max: 1_000_000 }),
      slo_ok: fc.boolean(),
      success_rate: fc.option(fc.constantFrom(0.5, 0.9, 0.99, 1), { nil: null }),
      avg_latency_ms: fc.option(fc.constantFrom(50, 100, 200), { nil: null }),
      cost_per_1k: fc.option(fc.constantFrom(0.001, 0.01), { nil: null }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(binding, { selector: (x) => x.id, maxLength: 20 }), (bindings) => {
        const forward = rankForRouting(bindings).map((x) => x.id);
        const backward = rankForRouting([...bindings].reverse()).map((x) => x.id);
        expect(backward).toEqual(forward);
        for (let i = 1; i < forward.length; i++) {
          const [prev, next] = [bindings.find((x) => x.id === forward[i - 1])!, bindings.find((x) => x.id === forward[i])!];
          expect(compareForRouting(prev, next)).toBeLessThan(0);
        }
      }),
    );
  });
});
