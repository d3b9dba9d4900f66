import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { metrics, type BatchObservableCallback } from '@opentelemetry/api';
import type { AttemptOutcome } from './webhook-sender';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository';

const meter = () => metrics.getMeter('model-registry');

/** What happened to one attempt: delivered; failed and retried later; failed and given up. */
export type DeliveryOutcome = 'delivered' | 'retrying' | 'given_up';

/**
 * Webhook metrics. Counters and histograms count what this replica did; the queue gauges are read from
 * the database at scrape time and are the same on every replica.
 */
@Injectable()
export class WebhookTelemetry implements OnModuleInit, OnModuleDestroy {
  private readonly deliveries = meter().createCounter('webhook.deliveries', {
    description: 'Delivery attempts, by outcome (delivered, retrying, given_up) and, for failures, reason (http_status, timeout, connection, tls, blocked, secret).',
  });
  private readonly lag = meter().createHistogram('webhook.delivery.lag', {
    description: 'From the change to its successful delivery (change-feed deliveries; includes retries).',
    unit: 's',
    advice: { explicitBucketBoundaries: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400] },
  });
  private readonly duration = meter().createHistogram('webhook.delivery.duration', {
    description: 'Duration of delivery attempts (the HTTP exchange).',
    unit: 's',
    advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
  });
  private readonly disabled = meter().createCounter('webhook.subscriptions.disabled', { description: 'Subscriptions disabled after failing for the disable threshold (3 days).' });
  private readonly pending = meter().createObservableGauge('webhook.deliveries.pending', { description: 'Deliveries queued or being sent (all replicas).' });
  private readonly oldestPending = meter().createObservableGauge('webhook.deliveries.oldest_pending.age', {
    description: 'Age of the oldest queued delivery (all replicas); 0 when none.',
    unit: 's',
  });

  constructor(private readonly deliveriesRepository: WebhookDeliveriesRepository) {}

  private readonly observeQueue: BatchObservableCallback = async (result) => {
    try {
      const stats = await this.deliveriesRepository.queueStats();
      result.observe(this.pending, stats.pending);
      result.observe(this.oldestPending, stats.oldest_age_s ?? 0);
    } catch {
      // The database is unreachable: the gauges are absent from this scrape.
    }
  };

  onModuleInit(): void {
    meter().addBatchObservableCallback(this.observeQueue, [this.pending, this.oldestPending]);
  }

  onModuleDestroy(): void {
    meter().removeBatchObservableCallback(this.observeQueue, [this.pending, this.oldestPending]);
  }

  recordAttempt(outcome: DeliveryOutcome, reason: AttemptOutcome | 'secret', durationMs: number): void {
    this.deliveries.add(1, outcome === 'delivered' ? { outcome } : { outcome, reason });
    this.duration.record(durationMs / 1000);
  }

  recordLag(occurredAt: Date): void {
    this.lag.record(Math.max(0, (Date.now() - occurredAt.getTime()) / 1000));
  }

  recordDisabled(): void {
    this.disabled.add(1);
  }
}
