import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { WebhookEntity } from './webhook.entity';

export const DELIVERY_STATUSES = ['pending', 'sending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export const DELIVERY_ORIGINS = ['feed', 'replay', 'retry', 'test'] as const;
export type DeliveryOrigin = (typeof DELIVERY_ORIGINS)[number];

/**
 * One message to one subscription, and its latest attempt. A subscription's queue is its pending and
 * sending deliveries in id order; only the first is ever attempted (feed order).
 */
@Entity({ name: 'webhook_deliveries' })
@Check('ck_webhook_deliveries_status', `status IN ('pending', 'sending', 'delivered', 'failed')`)
@Check('ck_webhook_deliveries_origin', `origin IN ('feed', 'replay', 'retry', 'test')`)
@Check('ck_webhook_deliveries_attempts', `attempts >= 0`)
@Check('ck_webhook_deliveries_queued', `(status IN ('pending', 'sending')) = (next_attempt_at IS NOT NULL)`)
@Check('ck_webhook_deliveries_response_body', `octet_length(last_response_body) <= 1024`)
@Index('ix_webhook_deliveries_log', ['webhookId', 'createdAt', 'id'])
// Partial indexes are created by the migration; TypeORM must not try to sync them.
@Index('ix_webhook_deliveries_queue', { synchronize: false })
@Index('ix_webhook_deliveries_finished', { synchronize: false })
export class WebhookDeliveryEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS', primaryKeyConstraintName: 'pk_webhook_deliveries' })
  id: number;

  @Column({ name: 'webhook_id', type: 'bigint' })
  webhookId: number;

  @ManyToOne(() => WebhookEntity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'webhook_id', foreignKeyConstraintName: 'fk_webhook_deliveries_webhook' })
  webhook?: WebhookEntity;

  @Column({ type: 'varchar', length: 16 })
  origin: DeliveryOrigin;

  /** The `webhook-id` header: the same for every attempt, retry and replay of the same event. */
  @Column({ name: 'message_id', type: 'varchar', length: 64 })
  messageId: string;

  /** The change-feed event (no foreign key: events are pruned, the log is kept). Null for tests. */
  @Column({ name: 'event_id', type: 'bigint', nullable: true })
  eventId: number | null;

  @Column({ name: 'event_type', type: 'varchar', length: 32 })
  eventType: string;

  @Column({ name: 'event_cursor', type: 'varchar', length: 64, nullable: true })
  eventCursor: string | null;

  @Column({ name: 'occurred_at', type: 'timestamptz', precision: 3 })
  occurredAt: Date;

  /** The exact body sent (the event object as JSON). */
  @Column({ type: 'text' })
  payload: string;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status: DeliveryStatus;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  /** When pending: the next attempt; when sending: when the sender's claim lapses. */
  @Column({ name: 'next_attempt_at', type: 'timestamptz', precision: 3, nullable: true })
  nextAttemptAt: Date | null;

  @Column({ name: 'give_up_at', type: 'timestamptz', precision: 3 })
  giveUpAt: Date;

  @Column({ name: 'last_attempt_at', type: 'timestamptz', precision: 3, nullable: true })
  lastAttemptAt: Date | null;

  @Column({ name: 'last_response_code', type: 'smallint', nullable: true })
  lastResponseCode: number | null;

  @Column({ name: 'last_duration_ms', type: 'integer', nullable: true })
  lastDurationMs: number | null;

  @Column({ name: 'last_response_body', type: 'text', nullable: true })
  lastResponseBody: string | null;

  @Column({ name: 'last_error', type: 'varchar', length: 500, nullable: true })
  lastError: string | null;

  @Column({ name: 'delivered_at', type: 'timestamptz', precision: 3, nullable: true })
  deliveredAt: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  createdAt: Date;
}
