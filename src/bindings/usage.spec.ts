import fc from 'fast-check';
import { ewmaSequential, ewmaUpdate } from './usage';

describe('ewmaUpdate', () => {
  it('initialises with the first sample, then weighs each new one by alpha', () => {
    expect(ewmaUpdate(0.5, [100])).toEqual({ factor: 0.5, contribution: 50, initial: 100 });
    const update = ewmaUpdate(0.5, [100, 200])!;
    expect(update.initial).toBe(150);
    expect(update.factor * 80 + update.contribution).toBe(ewmaSequential(0.5, 80, [100, 200]));
  });

  it('a folded batch equals applying its samples one by one (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        fc.option(fc.double({ min: 0, max: 10_000, noNaN: true }), { nil: null }),
        fc.array(fc.double({ min: 0, max: 10_000, noNaN: true }), { minLength: 1, maxLength: 50 }),
        (alpha, start, values) => {
          const update = ewmaUpdate(alpha, values)!;
          const folded = start === null ? update.initial : update.factor * start + update.contribution;
          expect(folded).toBeCloseTo(ewmaSequential(alpha, start, values)!, 6);
        },
      ),
    );
  });

  it('is undefined for no samples', () => {
    expect(ewmaUpdate(0.1, [])).toBeUndefined();
  });
});
