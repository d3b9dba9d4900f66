import type { Logger } from '@nestjs/common';

/** Errors of a background loop are logged at most this often (an outage must not flood the log). */
const ERROR_LOG_INTERVAL_MS = 60_000;
const MAX_ERROR_BACKOFF_MS = 30_000;

/**
 * Runs `tick` in the background: again at once when it reports more work, else after `intervalMs`
 * (±20%, so replicas drift apart) or as soon as `kick()` is called. Failures back off up to 30 s and
 * are logged, throttled; they never reach the process.
 */
export class PollingLoop {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = true;
  private kicked = false;
  private failures = 0;
  private lastErrorLogAt = 0;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly tick: () => Promise<boolean>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Run as soon as possible (new work may be waiting). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.kicked = true;
      return;
    }
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), delayMs);
  }

  private run(): void {
    if (this.stopped || this.running) return;
    this.kicked = false;
    this.running = this.tick()
      .then((more) => {
        if (this.failures > 0) this.logger.log(`${this.name}: working again`);
        this.failures = 0;
        return more;
      })
      .catch((error: unknown) => {
        this.failures++;
        if (Date.now() - this.lastErrorLogAt >= ERROR_LOG_INTERVAL_MS) {
          this.lastErrorLogAt = Date.now();
          this.logger.warn({ err: error, consecutive_failures: this.failures }, `${this.name} failed; retrying`);
        }
        return false;
      })
      .then((more) => {
        this.running = undefined;
        if (this.stopped) return;
        if (this.failures > 0) return this.schedule(Math.min(this.intervalMs * 2 ** this.failures, MAX_ERROR_BACKOFF_MS));
        this.schedule(more || this.kicked ? 0 : Math.round(this.intervalMs * (0.8 + 0.4 * Math.random())));
      });
  }
}
