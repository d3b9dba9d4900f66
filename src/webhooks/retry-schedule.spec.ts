import { RETRY_MAX_DELAY_MS, RETRY_WINDOW_MS, retrySchedule } from './retry-schedule';

describe(retrySchedule.name, () => {
  const sut = retrySchedule();

  it('doubles from 10 s up to 2 h (nominal, without jitter)', () => {
    const nominal = Array.from({ length: 14 }, (_, i) => sut.delayAfter(i + 1, 0.5) / 1000);
    expect(nominal).toEqual([10, 20, 40, 80, 160, 320, 640, 1280, 2560, 5120, 7200, 7200, 7200, 7200]);
  });

  it('jitters each delay between 75% and 125%', () => {
    expect(sut.delayAfter(1, 0)).toBe(7_500);
    expect(sut.delayAfter(1, 0.999999)).toBe(12_500);
    expect(sut.delayAfter(50, 0.999999)).toBeCloseTo(RETRY_MAX_DELAY_MS * 1.25, -2);
  });

  it('makes 22 attempts in the 24 h window (nominal delays)', () => {
    let elapsed = 0;
    let attempts = 1;
    while (elapsed + sut.delayAfter(attempts, 0.5) < RETRY_WINDOW_MS) elapsed += sut.delayAfter(attempts++, 0.5);
    // ... plus the last one, made when the window closes.
    expect(attempts + 1).toBe(22);
  });

  it('scales every time, the window and the disable threshold alike', () => {
    const fast = retrySchedule(0.001);
    expect(fast.delayAfter(1, 0.5)).toBe(10);
    expect(fast.windowMs).toBe(86_400);
    expect(fast.disableAfterMs).toBe(259_200);
  });
});
