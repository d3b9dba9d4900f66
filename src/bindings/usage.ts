/**
 * Exponentially weighted moving averages of usage samples. Applied one sample at a time, the average
 * A becomes (1 - α)·A + α·x; the first sample initialises it. A batch x₀…xₙ₋₁ is folded into one
 * affine update, so a request is applied in a single atomic UPDATE and concurrent requests, each
 * applied whole under the row lock, give exactly the sequential result in the order they were applied.
 */
export interface EwmaUpdate {
  /** A' = factor·A + contribution, when the average exists. */
  factor: number;
  contribution: number;
  /** A' when there is no average yet (the first sample initialises it). */
  initial: number;
}

export function ewmaUpdate(alpha: number, values: number[]): EwmaUpdate | undefined {
  if (values.length === 0) return undefined;
  let factor = 1;
  let contribution = 0;
  for (const value of values) {
    factor *= 1 - alpha;
    contribution = contribution * (1 - alpha) + alpha * value;
  }
  // From the first sample on its own, then the rest folded in.
  let initial = values[0];
  for (const value of values.slice(1)) initial = (1 - alpha) * initial + alpha * value;
  return { factor, contribution, initial };
}

/** The reference: one sample at a time. */
export function ewmaSequential(alpha: number, start: number | null, values: number[]): number | null {
  let average = start;
  for (const value of values) average = average === null ? value : (1 - alpha) * average + alpha * value;
  return average;
}
