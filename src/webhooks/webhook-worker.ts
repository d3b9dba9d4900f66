import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { webhookConfig } from '../config/webhook.config';
import { PollingLoop } from './polling-loop';
import { retrySchedule, type RetrySchedule } from './retry-schedule';
import { WebhookDeliveriesRepository, type ClaimedDelivery } from './webhook-deliveries.repository';
import { WebhookSecrets } from './webhook-secrets';
import { WebhookSender, type AttemptResult } from './webhook-sender';
import { WebhookTelemetry } from './webhook-telemetry';

/**
 * Sends queued deliveries: claims the due head of up to WEBHOOK_CONCURRENCY subscriptions' queues at a
 * time (see CLAIM_SQL: any number of replicas share the work, never the same subscription at once),
 * sends each, records the outcome (claiming the subscription's next delivery with it) and claims again. A crash mid-delivery leaves the claim to lapse
 * after WEBHOOK_LEASE_MS; then any replica sends it again with the same webhook-id.
 */
/** Deliveries one slot sends to the same subscription before it goes back to the shared queue. */
const MAX_IN_A_ROW = 100;

@Injectable()
export class WebhookWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookWorker.name);
  private readonly inFlight = new Set<Promise<void>>();
  private readonly schedule: RetrySchedule;
  private loop?: PollingLoop;
  private stopping = false;

  constructor(
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly sender: WebhookSender,
    private readonly secrets: WebhookSecrets,
    private readonly telemetry: WebhookTelemetry,
    @Inject(webhookConfig.KEY) private readonly config: ConfigType<typeof webhookConfig>,
  ) {
    this.schedule = retrySchedule(config.retryScale);
  }

  onApplicationBootstrap(): void {
    if (!this.config.deliveryEnabled) return;
    this.loop = new PollingLoop('webhook delivery', this.config.pollIntervalMs, () => this.claimAndSend(), this.logger);
    this.loop.start();
  }

  /** New deliveries were queued, or one finished: look for work now. */
  kick(): void {
    this.loop?.kick();
  }

  /** Stops claiming; deliveries in progress finish (each within WEBHOOK_TIMEOUT_MS) and are recorded. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.loop?.stop();
    await Promise.allSettled([...this.inFlight]);
  }

  private async claimAndSend(): Promise<boolean> {
    const free = this.config.concurrency - this.inFlight.size;
    if (free <= 0) return false;
    const claimed = await this.deliveries.claim(free, this.config.leaseMs);
    for (const delivery of claimed) {
      const work: Promise<void> = this.deliver(delivery)
        .catch((error: unknown) => this.logger.error({ err: error, delivery_id: delivery.id }, 'webhook delivery failed unexpectedly'))
        .finally(() => {
          this.inFlight.delete(work);
          this.kick();
        });
      this.inFlight.add(work);
    }
    return claimed.length === free;
  }

  /**
   * Sends a claimed delivery and, while they are due and delivered, the subscription's next ones (claimed
   * with each outcome), up to MAX_IN_A_ROW before the subscription goes back to the shared queue so
   * that busy subscriptions cannot hold every slot.
   */
  private async deliver(first: ClaimedDelivery): Promise<void> {
    let claimed: ClaimedDelivery | undefined = first;
    for (let sent = 1; claimed; sent++) claimed = await this.attempt(claimed, sent < MAX_IN_A_ROW && !this.stopping);
  }

  private async attempt(claimed: ClaimedDelivery, claimNext: boolean): Promise<ClaimedDelivery | undefined> {
    let result: AttemptResult | undefined;
    let secrets: string[] = [];
    try {
      secrets = this.secrets.signingSecrets(claimed.secret_ciphertext, claimed.previous_secret_ciphertext);
    } catch (error) {
      result = { ok: false, outcome: 'connection', statusCode: null, durationMs: 0, responseBody: null, error: `cannot sign: ${(error as Error).message}` };
    }
    result ??= await this.sender.send(claimed.url, { id: claimed.message_id, body: claimed.payload, secrets });

    let completed;
    try {
      completed = await this.deliveries.complete(claimed, result, {
        retryDelayMs: this.schedule.delayAfter(claimed.attempts),
        disableAfterMs: this.schedule.disableAfterMs,
        next: claimNext,
        leaseMs: this.config.leaseMs,
      });
    } catch (error) {
      this.logger.warn({ err: error, delivery_id: claimed.id }, 'could not record a webhook attempt; the delivery is sent again when its claim lapses');
      return undefined;
    }
    if (!completed) {
      this.logger.warn({ delivery_id: claimed.id, webhook_id: claimed.webhook_id }, 'a webhook attempt outlived its claim (WEBHOOK_LEASE_MS); another replica took the delivery over');
      return undefined;
    }
    const outcome = result.ok ? 'delivered' : completed.status === 'failed' ? 'given_up' : 'retrying';
    this.telemetry.recordAttempt(outcome, secrets.length === 0 ? 'secret' : result.outcome, result.durationMs);
    if (result.ok && completed.origin === 'feed') this.telemetry.recordLag(completed.occurred_at);
    if (outcome === 'given_up') {
      this.logger.warn({ delivery_id: claimed.id, webhook_id: claimed.webhook_id, attempts: claimed.attempts, error: result.error }, 'webhook delivery given up');
    }
    if (completed.disabled) {
      this.telemetry.recordDisabled();
      this.logger.warn({ webhook_id: claimed.webhook_id, error: result.error }, 'webhook disabled: every delivery attempt has failed for the disable threshold (3 days)');
    }
    return completed.next;
  }
}
