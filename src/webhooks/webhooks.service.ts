import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service';
import type { ConfigType } from '@nestjs/config';
import { ApplicationError, ConflictError, RequestValidationError, ResourceNotFoundError } from '../common/errors/application.error';
import { assertIfMatch, etagOf } from '../common/http/etag';
import { parseSelector as parseLabelSelector, SelectorSyntaxError, type Requirement } from '../common/labels/selector';
import type { Page } from '../common/pagination/keyset';
import type { Queryable } from '../database/sql';
import { webhookConfig } from '../config/webhook.config';
import { decodeCursor, encodeCursor, type EventCursor } from '../events/event-cursor';
import { EventsRepository } from '../events/events.repository';
import { WebhookDeliveryDto, type ListDeliveriesQueryDto } from './dto/delivery.dto';
import {
  MAX_REPLAY,
  WebhookResponseDto,
  type CreateWebhookDto,
  type ListWebhooksQueryDto,
  type ReplayResultDto,
  type ReplayWebhookDto,
  type UpdateWebhookDto,
  type WebhookWithSecretDto,
} from './dto/webhook.dto';
import { retrySchedule } from './retry-schedule';
import { deliveryOf } from './feed-delivery';
import { WebhookDeliveriesRepository, type NewDelivery } from './webhook-deliveries.repository';
import { compareCursors, subscriptionMatches, type Subscription } from './webhook-matcher';
import { ROTATION_OVERLAP_MS, WebhookSecrets } from './webhook-secrets';
import { WebhookSender } from './webhook-sender';
import { WebhookTelemetry } from './webhook-telemetry';
import { WebhookUrlPolicy } from './webhook-url-policy';
import { WebhookWorker } from './webhook-worker';
import { WebhooksRepository, type WebhookRow } from './webhooks.repository';

export const TEST_EVENT_TYPE = 'webhook.test';
const REPLAY_PAGE = 1_000;

@Injectable()
export class WebhooksService {
  private readonly windowMs: number;

  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly events: EventsRepository,
    private readonly urlPolicy: WebhookUrlPolicy,
    private readonly secrets: WebhookSecrets,
    private readonly sender: WebhookSender,
    private readonly worker: WebhookWorker,
    private readonly telemetry: WebhookTelemetry,
    private readonly audit: AuditLog,
    @Inject(webhookConfig.KEY) config: ConfigType<typeof webhookConfig>,
  ) {
    this.windowMs = retrySchedule(config.retryScale).windowMs;
  }

  /**
   * Creates a subscription that receives the events of every transaction committed after it. The
   * dispatcher is held while it is written, so no dispatch can have read such events without seeing it.
   */
  async create(dto: CreateWebhookDto): Promise<WebhookWithSecretDto> {
    const selector = blankToNull(dto.selector);
    parseSelector(selector);
    await this.urlPolicy.check(dto.url);
    if (dto.model_id != null && !(await this.webhooks.modelExists(dto.model_id))) throw modelNotFound(dto.model_id);
    const { secret, ciphertext } = this.secrets.generate();
    const row = await this.webhooks.dataSource.transaction(async (manager) => {
      await this.deliveries.holdDispatcher(manager);
      const inserted = await this.webhooks.insert(
        {
          url: dto.url,
          events: dto.events,
          selector,
          model_id: dto.model_id ?? null,
          description: dto.description ?? null,
          enabled: dto.enabled ?? true,
          secret_ciphertext: ciphertext,
        },
        manager,
      );
      await this.audit.record(manager, { action: 'webhook.created', resourceType: 'webhook', resourceId: inserted.id, after: WebhookResponseDto.fromRow(inserted) });
      return inserted;
    });
    return { ...WebhookResponseDto.fromRow(row), secret };
  }

  list(query: ListWebhooksQueryDto): Promise<Page<WebhookResponseDto>> {
    return this.webhooks.listPage({ enabled: query.enabled, model_id: query.model_id }, query.sort, query.limit, query.page_token, (row) => WebhookResponseDto.fromRow(row));
  }

  async get(id: number): Promise<WebhookResponseDto> {
    return WebhookResponseDto.fromRow(await this.require(id));
  }

  async update(id: number, dto: UpdateWebhookDto, ifMatch: string | undefined): Promise<WebhookResponseDto> {
    const selector = dto.selector === undefined ? undefined : blankToNull(dto.selector);
    if (selector !== undefined) parseSelector(selector);
    if (dto.url !== undefined) await this.urlPolicy.check(dto.url);
    if (dto.model_id != null && !(await this.webhooks.modelExists(dto.model_id))) throw modelNotFound(dto.model_id);
    const row = await this.webhooks.dataSource.transaction(async (manager) => {
      const current = await this.require(id, manager);
      assertIfMatch(ifMatch, etagOf(WebhookResponseDto.fromRow(current)));
      await this.deliveries.holdDispatcher(manager);
      const updated = await this.webhooks.update(
        id,
        { url: dto.url, events: dto.events, selector, model_id: dto.model_id, description: dto.description, enabled: dto.enabled },
        manager,
      );
      await this.audit.record(manager, { action: 'webhook.updated', resourceType: 'webhook', resourceId: id, before: WebhookResponseDto.fromRow(current), after: WebhookResponseDto.fromRow(updated) });
      return updated;
    });
    return WebhookResponseDto.fromRow(row);
  }

  /** Deletes the subscription with its delivery log; queued deliveries are not sent. */
  delete(id: number, ifMatch: string | undefined): Promise<void> {
    return this.webhooks.dataSource.transaction(async (manager) => {
      const current = await this.require(id, manager);
      assertIfMatch(ifMatch, etagOf(WebhookResponseDto.fromRow(current)));
      await this.webhooks.delete(id, manager);
      await this.audit.record(manager, { action: 'webhook.deleted', resourceType: 'webhook', resourceId: id, before: WebhookResponseDto.fromRow(current) });
    });
  }

  /** A new secret signs from now on; the old one keeps signing beside it for 24 h. */
  async rotateSecret(id: number): Promise<WebhookWithSecretDto> {
    const { secret, ciphertext } = this.secrets.generate();
    const row = await this.webhooks.dataSource.transaction(async (manager) => {
      const current = await this.require(id, manager);
      const rotated = await this.webhooks.rotateSecret(id, ciphertext, ROTATION_OVERLAP_MS, manager);
      // The secrets themselves never reach the audit log: the rotation shows as the old one's expiry.
      await this.audit.record(manager, {
        action: 'webhook.secret_rotated',
        resourceType: 'webhook',
        resourceId: id,
        before: WebhookResponseDto.fromRow(current),
        after: WebhookResponseDto.fromRow(rotated),
      });
      return rotated;
    });
    return { ...WebhookResponseDto.fromRow(row), secret };
  }

  /**
   * Sends a `webhook.test` event now — outside the queue, so not behind pending deliveries, and also to
   * a disabled subscription — once, without retries; the attempt is recorded in the delivery log.
   */
  async test(id: number): Promise<WebhookDeliveryDto> {
    const row = await this.require(id);
    const now = new Date();
    const body = JSON.stringify({
      id: null,
      cursor: null,
      type: TEST_EVENT_TYPE,
      occurred_at: now.toISOString(),
      model_id: null,
      version_id: null,
      binding_id: null,
      alias: null,
      data: { webhook_id: id },
    });
    const delivery: NewDelivery = {
      webhook_id: id,
      origin: 'test',
      message_id: `test_${randomUUID()}`,
      event_id: null,
      event_type: TEST_EVENT_TYPE,
      event_cursor: null,
      occurred_at: now,
      payload: body,
    };
    let secrets: string[];
    try {
      secrets = this.secrets.signingSecrets(row.secret_ciphertext, previousSecretIfActive(row, now));
    } catch {
      throw new ConflictError(
        'The signing secret of this webhook cannot be decrypted: the key it was encrypted with is not in WEBHOOK_SECRET_KEY. Configure that key again, or rotate the secret.',
      );
    }
    const result = await this.sender.send(row.url, { id: delivery.message_id, body, secrets });
    this.telemetry.recordAttempt(result.ok ? 'delivered' : 'given_up', result.outcome, result.durationMs);
    const recorded = await this.webhooks.dataSource.transaction(async (manager) => {
      const row = await this.deliveries.recordFinished(delivery, result, now, manager);
      await this.audit.record(manager, { action: 'webhook.tested', resourceType: 'webhook', resourceId: id, after: { delivery_id: Number(row.id), status: row.status } });
      return row;
    });
    return WebhookDeliveryDto.fromRow(recorded);
  }

  async listDeliveries(id: number, query: ListDeliveriesQueryDto): Promise<Page<WebhookDeliveryDto>> {
    await this.require(id);
    return this.deliveries.listPage(id, query.status, query.sort, query.limit, query.page_token, WebhookDeliveryDto.fromRow);
  }

  async getDelivery(id: number, deliveryId: number): Promise<WebhookDeliveryDto> {
    const row = await this.deliveries.findById(id, deliveryId);
    if (!row) throw deliveryNotFound(id, deliveryId);
    return WebhookDeliveryDto.fromRow(row);
  }

  /**
   * Queues a finished (delivered or given-up) delivery again, at the end of the webhook's queue, with
   * the same message id and body and a new 24 h of retries.
   */
  async retryDelivery(id: number, deliveryId: number): Promise<WebhookDeliveryDto> {
    const row = await this.webhooks.dataSource.transaction(async (manager) => {
      await this.require(id, manager);
      const original = await this.deliveries.findById(id, deliveryId, manager);
      if (!original) throw deliveryNotFound(id, deliveryId);
      if (original.status === 'pending' || original.status === 'sending') {
        throw new ConflictError(`Delivery ${deliveryId} is still ${original.status}: it will be attempted again without being asked.`, undefined, { delivery_status: original.status });
      }
      const copy = await this.deliveries.requeueCopy(id, deliveryId, this.windowMs, manager);
      await this.audit.record(manager, {
        action: 'webhook.delivery_retried',
        resourceType: 'webhook',
        resourceId: id,
        after: { delivery_id: Number(copy.id), retry_of: deliveryId },
      });
      return copy;
    });
    this.worker.kick();
    return WebhookDeliveryDto.fromRow(row);
  }

  /**
   * Queues again the events after `after` that match the webhook's filters (whenever they happened),
   * up to the dispatcher's position — later events reach the webhook the normal way. Events it still
   * has queued are not queued twice. Messages keep their webhook-id.
   */
  async replay(id: number, dto: ReplayWebhookDto): Promise<ReplayResultDto> {
    const webhook = await this.require(id);
    const after = decodeCursor(dto.after);
    const pruned = await this.events.prunedThrough();
    if (pruned && (await this.events.isBefore(after, pruned))) {
      throw new ApplicationError('cursor-expired', 'Events after this cursor have been pruned (EVENTS_RETENTION_DAYS): replay from a later cursor.');
    }
    const limit = dto.limit ?? MAX_REPLAY;
    const until = await this.deliveries.dispatcherCursor();
    const subscription = toSubscription(webhook);

    const queued: NewDelivery[] = [];
    let cursor: EventCursor = after;
    let scanned = 0;
    let exhausted = false;
    while (scanned < limit && !exhausted) {
      const page = (await this.events.after(cursor, Math.min(REPLAY_PAGE, limit - scanned))).filter((event) => compareCursors({ txId: event.tx_id, id: event.id }, until) <= 0);
      exhausted = page.length < Math.min(REPLAY_PAGE, limit - scanned);
      if (page.length === 0) break;
      const labels = subscription.selector ? await this.webhooks.labelsOfModels([...new Set(page.flatMap((e) => (e.model_id === null ? [] : [e.model_id])))]) : new Map();
      for (const event of page) {
        if (subscriptionMatches(subscription, event, (modelId) => labels.get(modelId))) queued.push(deliveryOf(event, id, 'replay'));
      }
      scanned += page.length;
      const last = page[page.length - 1];
      cursor = { txId: last.tx_id, id: last.id };
    }

    const count = await this.webhooks.dataSource.transaction(async (manager) => {
      await this.require(id, manager);
      const alreadyQueued = await this.deliveries.queuedEventIds(id, manager);
      const fresh = queued.filter((delivery) => !alreadyQueued.has(delivery.event_id!));
      await this.deliveries.enqueue(fresh, this.windowMs, manager);
      await this.audit.record(manager, { action: 'webhook.replayed', resourceType: 'webhook', resourceId: id, after: { after: dto.after, queued: fresh.length, scanned } });
      return fresh.length;
    });
    if (count > 0) this.worker.kick();
    return { queued: count, scanned, next_cursor: exhausted ? null : encodeCursor(cursor) };
  }

  private async require(id: number, manager?: Queryable): Promise<WebhookRow> {
    const row = await this.webhooks.findById(id, manager, { lock: manager !== undefined });
    if (!row) throw new ResourceNotFoundError('webhook', id);
    return row;
  }
}

/** An empty selector would select everything: it means no selector. */
function blankToNull(selector: string | null | undefined): string | null {
  return selector === undefined || selector === null || selector.trim() === '' ? null : selector;
}

/** A selector in the labels feature's grammar; a syntax error is a 400 saying where. */
function parseSelector(text: string | null): Requirement[] | null {
  if (text === null) return null;
  try {
    return parseLabelSelector(text);
  } catch (error) {
    if (error instanceof SelectorSyntaxError) throw new RequestValidationError([{ field: 'selector', message: `is not a valid label selector: ${error.message}` }]);
    throw error;
  }
}

/** The subscription's filters, for a replay (which also takes events from before it was created). */
function toSubscription(row: WebhookRow): Subscription {
  return { id: row.id, events: row.events, modelId: row.model_id, selector: parseSelector(row.selector), start: null };
}

function previousSecretIfActive(row: WebhookRow, now: Date): string | null {
  return row.previous_secret_expires_at && row.previous_secret_expires_at > now ? row.previous_secret_ciphertext : null;
}

const modelNotFound = (modelId: number) =>
  new ApplicationError('not-found', `No model with id ${modelId} exists.`, [{ field: 'model_id', message: 'no model with this id exists' }], { resource: 'model' });

const deliveryNotFound = (id: number, deliveryId: number) => new ApplicationError('not-found', `Webhook ${id} has no delivery ${deliveryId}.`, undefined, { resource: 'delivery' });
