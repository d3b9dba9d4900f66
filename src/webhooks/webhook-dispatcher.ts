import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { parseSelector } from '../common/labels/selector';
import { webhookConfig } from '../config/webhook.config';
import { encodeCursor } from '../events/event-cursor';
import { EventsRepository } from '../events/events.repository';
import { bodyOf, deliveryOf } from './feed-delivery';
import { PollingLoop } from './polling-loop';
import { retrySchedule } from './retry-schedule';
import { WebhookDeliveriesRepository, type NewDelivery } from './webhook-deliveries.repository';
import { compareCursors, parseSnapshot, subscriptionMatches, type Subscription } from './webhook-matcher';
import { WebhookWorker } from './webhook-worker';
import { WebhooksRepository, type SubscriptionRow } from './webhooks.repository';

export const DISPATCH_BATCH = 500;
const MAX_DELIVERIES_PER_DISPATCH = 5_000;
const PRUNE_INTERVAL_MS = 10 * 60 * 1000;

/**
 * Turns the change feed into deliveries. Every replica runs it; one at a time does the work: it reads
 * the next events after the stored cursor (through EventsRepository, so the feed's release rule
 * applies), then, holding the dispatcher row's lock (SKIP LOCKED: the others skip this round), queues a
 * delivery per matching subscription and advances the cursor in the same transaction — an event is
 * queued once, or not at all if the transaction fails.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private readonly windowMs: number;
  private loop?: PollingLoop;
  private lastPruneAt = 0;
  private readonly selectors = new Map<number, { updatedAt: number; subscription: Subscription }>();

  constructor(
    private readonly events: EventsRepository,
    private readonly webhooks: WebhooksRepository,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly worker: WebhookWorker,
    @Inject(webhookConfig.KEY) private readonly config: ConfigType<typeof webhookConfig>,
  ) {
    this.windowMs = retrySchedule(config.retryScale).windowMs;
  }

  onApplicationBootstrap(): void {
    if (!this.config.deliveryEnabled) {
      this.logger.log('WEBHOOK_DELIVERY_ENABLED=false: this replica neither dispatches nor sends webhook deliveries');
      return;
    }
    this.loop = new PollingLoop('webhook dispatch', this.config.pollIntervalMs, () => this.dispatchBatch(), this.logger);
    this.loop.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.loop?.stop();
  }

  /** Dispatches the next batch of events, if this replica gets the lock. Returns whether more are waiting. */
  async dispatchBatch(): Promise<boolean> {
    await this.pruneIfDue();
    // Read outside the transaction: the events after a position never change, and the pool may have
    // a single connection (the transaction's).
    const cursor = await this.deliveries.dispatcherCursor();
    const batch = await this.events.after(cursor, DISPATCH_BATCH);
    if (batch.length === 0) return false;

    const result = await this.webhooks.dataSource.transaction(async (manager) => {
      const locked = await this.deliveries.lockDispatcher(manager);
      if (!locked || compareCursors(locked, cursor) !== 0) return undefined;
      const subscriptions = this.subscriptionsFrom(await this.webhooks.enabledSubscriptions(manager));
      const modelIds = subscriptions.some((s) => s.selector) ? [...new Set(batch.flatMap((e) => (e.model_id === null ? [] : [e.model_id])))] : [];
      const labels = await this.webhooks.labelsOfModels(modelIds, manager);
      const deliveries: NewDelivery[] = [];
      // Whole events only, and a bounded transaction: many subscriptions can stop the batch early.
      let dispatched = 0;
      while (dispatched < batch.length && deliveries.length < MAX_DELIVERIES_PER_DISPATCH) {
        const event = batch[dispatched++];
        let body: string | undefined;
        for (const subscription of subscriptions) {
          if (!subscriptionMatches(subscription, event, (id) => labels.get(id))) continue;
          body ??= bodyOf(event);
          deliveries.push(deliveryOf(event, subscription.id, 'feed', body));
        }
      }
      await this.deliveries.enqueue(deliveries, this.windowMs, manager);
      const last = batch[dispatched - 1];
      const caughtUp = dispatched === batch.length && batch.length < DISPATCH_BATCH;
      await this.deliveries.advanceDispatcher({ txId: last.tx_id, id: last.id }, caughtUp, manager);
      return { queued: deliveries.length, caughtUp };
    });
    if (result === undefined) return false;
    if (result.queued > 0) this.worker.kick();
    return !result.caughtUp;
  }

  /** Parsed subscriptions, re-parsing a selector only when its subscription changed. */
  private subscriptionsFrom(rows: SubscriptionRow[]): Subscription[] {
    const current = new Set(rows.map((row) => row.id));
    for (const id of this.selectors.keys()) if (!current.has(id)) this.selectors.delete(id);
    return rows.flatMap((row) => {
      const cached = this.selectors.get(row.id);
      if (cached && cached.updatedAt === row.updated_at.getTime()) return [cached.subscription];
      try {
        const subscription: Subscription = {
          id: row.id,
          events: row.events,
          modelId: row.model_id,
          selector: row.selector === null ? null : parseSelector(row.selector),
          start: parseSnapshot(row.start_snapshot),
        };
        this.selectors.set(row.id, { updatedAt: row.updated_at.getTime(), subscription });
        return [subscription];
      } catch (error) {
        // Stored values were validated on the way in; one that no longer parses matches nothing.
        this.logger.error({ err: error, webhook_id: row.id }, 'a webhook has a selector or start position that cannot be read; it receives nothing');
        return [];
      }
    });
  }

  /** Every 10 minutes: prunes the delivery log, and says so if the feed was pruned past undispatched events. */
  private async pruneIfDue(): Promise<void> {
    if (Date.now() - this.lastPruneAt < PRUNE_INTERVAL_MS) return;
    this.lastPruneAt = Date.now();
    const pruned = await this.deliveries.pruneFinished(this.config.deliveryRetentionDays);
    if (pruned > 0) this.logger.log({ pruned, older_than_days: this.config.deliveryRetentionDays }, `pruned ${pruned} finished webhook deliveries`);
    const [cursor, feedPruned] = await Promise.all([this.deliveries.dispatcherCursor(), this.events.prunedThrough()]);
    if (feedPruned && (await this.events.isBefore(cursor, feedPruned))) {
      this.logger.error(
        { dispatcher_cursor: encodeCursor(cursor), pruned_through: encodeCursor(feedPruned) },
        'the change feed was pruned (EVENTS_RETENTION_DAYS) past events webhooks had not been sent: they are lost to subscribers, who should re-read what they cache',
      );
    }
  }
}
