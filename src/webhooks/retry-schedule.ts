/**
 * When a failed delivery is tried again, and when it is given up. Times are nominal (WEBHOOK_RETRY_SCALE
 * = 1); the scale multiplies all of them, so tests can run the whole schedule in seconds.
 *
 * Attempt 1 is made at once. After failed attempt n the next one waits 10 s × 2^(n−1), at most 2 h,
 * each delay drawn uniformly between 75% and 125% of that (jitter, so receivers that come back are not
 * hit by every sender at the same instant): ~10 s, 20 s, 40 s, 80 s, 160 s, 5 min, 11 min, 21 min,
 * 43 min, 85 min, then every ~2 h. A delivery is given up 24 h after it was queued (its last attempt is
 * made at that moment): 22 attempts with nominal delays. A subscription whose attempts have all failed for 3 days
 * is disabled.
 */
export const RETRY_BASE_MS = 10_000;
export const RETRY_MAX_DELAY_MS = 2 * 60 * 60 * 1000;
export const RETRY_WINDOW_MS = 24 * 60 * 60 * 1000;
export const DISABLE_AFTER_MS = 3 * 24 * 60 * 60 * 1000;
const JITTER = 0.25;

export interface RetrySchedule {
  /** Milliseconds to wait after failed attempt `attempt` (1-based). `random` is in [0, 1). */
  delayAfter(attempt: number, random?: number): number;
  /** How long after a delivery is queued it is given up. */
  readonly windowMs: number;
  /** How long a subscription may fail without a single success before it is disabled. */
  readonly disableAfterMs: number;
}

export function retrySchedule(scale = 1): RetrySchedule {
  return {
    delayAfter(attempt, random = Math.random()) {
      const nominal = Math.min(RETRY_BASE_MS * 2 ** Math.min(Math.max(attempt, 1) - 1, 30), RETRY_MAX_DELAY_MS);
      return Math.round(nominal * scale * (1 - JITTER + 2 * JITTER * random));
    },
    windowMs: Math.round(RETRY_WINDOW_MS * scale),
    disableAfterMs: Math.round(DISABLE_AFTER_MS * scale),
  };
}
