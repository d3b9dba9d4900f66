import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { parseSelector } from '../common/labels/selector';
import { webhookConfig } from '../config/webhook.config';
import { EventDto } from '../events/dto/event.dto';
import { encodeCursor } from '../events/event-cursor';
import { EventsRepository, type EventRow } from '../events/events.repository';
import { PollingLoop } from './polling-loop';
import { retrySchedule } from './retry-schedule';
import { WebhookDeliveriesRepository, type NewDelivery } from './webhook-deliveries.repository';
import { compareCursors, parseSnapshot, subscriptionMatches, type Subscription } from './webhook-matcher';
import { WebhookWorker } from './webhook-worker';
import { WebhooksRepository, type SubscriptionRow } from './webhooks.repository';

export const DISPATCH_BATCH = 500;
const PRUNE_INTERVAL_MS = 10 * 60 * 1000;

/** The `webhook-id` of an event's message: the same for every subscription, attempt, retry and replay. */
export const messageIdOf = (eventId: number) => `evt_${eventId}`;

/** The delivery of one feed event to one subscription; the body is the event exactly as GET /events shows it. */
export function deliveryOf(event: EventRow, webhookId: number, origin: 'feed' | 'replay', body: string): NewDelivery {
  return {
    webhook_id: webhookId,
    origin,
    message_id: messageIdOf(event.id),
    event_id: event.id,
    event_type: event.type,
    event_cursor: encodeCursor({ txId: event.tx_id, id: event.id }),
    occurred_at: event.occurred_at,
    payload: body,
  };
}

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

    const queued = await this.webhooks.dataSource.transaction(async (manager) => {
      const locked = await this.deliveries.lockDispatcher(manager);
      if (!locked || compareCursors(locked, cursor) !== 0) return undefined;
      const subscriptions = this.subscriptionsFrom(await this.webhooks.enabledSubscriptions(manager));
      const deliveries: NewDelivery[] = [];
      if (subscriptions.length > 0) {
        const modelIds = subscriptions.some((s) => s.selector) ? [...new Set(batch.map((e) => e.model_id).filter((id): id is number => id !== null))] : [];
        const labels = await this.webhooks.labelsOfModels(modelIds, manager);
        for (const event of batch) {
          let body: string | undefined;
          for (const subscription of subscriptions) {
            if (!subscriptionMatches(subscription, event, (id) => labels.get(id))) continue;
            body ??= JSON.stringify(EventDto.fromRow(event));
            deliveries.push(deliveryOf(event, subscription.id, 'feed', body));
          }
        }
        await this.deliveries.enqueue(deliveries, this.windowMs, manager);
      }
      const last = batch[batch.length - 1];
      await this.deliveries.advanceDispatcher({ txId: last.tx_id, id: last.id }, batch.length < DISPATCH_BATCH, manager);
      return deliveries.length;
    });
    if (queued === undefined) return false;
    if (queued > 0) this.worker.kick();
    return batch.length === DISPATCH_BATCH;
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

  private async pruneIfDue(): Promise<void> {
    if (Date.now() - this.lastPruneAt < PRUNE_INTERVAL_MS) return;
    this.lastPruneAt = Date.now();
    const pruned = await this.deliveries.pruneFinished(this.config.deliveryRetentionDays);
    if (pruned > 0) this.logger.log({ pruned, older_than_days: this.config.deliveryRetentionDays }, `pruned ${pruned} finished webhook deliveries`);
  }
}
