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

  it('prefers the cheaper binding when everything else ties: input price, then output price, in the request currency', () => {
    const usd = (input: number, output: number) => ({ input_per_1m_tokens: input, output_per_1m_tokens: output, currency: 'USD' });
    const ranked = rankForRouting([
      b(1, { pricing: usd(10, 30) }),
      b(2, { pricing: usd(5, 40) }),
      b(3),
      b(4, { pricing: usd(5, 20) }),
      b(5, { pricing: { input_per_1m_tokens: 1, output_per_1m_tokens: 1, currency: 'EUR' } }),
      b(6, { pricing: usd(0.1, 0.1), avg_latency_ms: 101 }),
    ]);
    // Unpriced and other-currency bindings come after priced ones; price only breaks ties (6 is slower).
    expect(ranked.map((r) => r.id)).toEqual([4, 2, 1, 3, 5, 6]);
    expect(rankForRouting([b(5, { pricing: { input_per_1m_tokens: 1, output_per_1m_tokens: 1, currency: 'EUR' } }), b(4, { pricing: usd(5, 20) })], 'EUR').map((r) => r.id)).toEqual([5, 4]);
  });

  it('is a total order: deterministic whatever the input order (property)', () => {
    const binding = fc.record({
      id: fc.integer({ min: 1, max: 1_000_000 }),
      slo_ok: fc.boolean(),
      success_rate: fc.option(fc.constantFrom(0.5, 0.9, 0.99, 1), { nil: null }),
      avg_latency_ms: fc.option(fc.constantFrom(50, 100, 200), { nil: null }),
      cost_per_1k: fc.option(fc.constantFrom(0.001, 0.01), { nil: null }),
      pricing: fc.option(
        fc.record({ input_per_1m_tokens: fc.constantFrom(0, 1, 10), output_per_1m_tokens: fc.constantFrom(0, 2), currency: fc.constantFrom('USD', 'EUR') }),
        { nil: null },
      ),
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
