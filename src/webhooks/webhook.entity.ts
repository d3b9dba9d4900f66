import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const DISABLED_REASONS = ['manual', 'consecutive_failures'] as const;
export type DisabledReason = (typeof DISABLED_REASONS)[number];

/**
 * A subscription to the change feed. No foreign key to `model_id`: a subscription to one model must
 * still receive that model's `model.deleted`, so it outlives the model.
 */
@Entity({ name: 'webhooks' })
@Check('ck_webhooks_events', `cardinality(events) BETWEEN 1 AND 32`)
@Check('ck_webhooks_disabled_reason', `disabled_reason IN ('manual', 'consecutive_failures')`)
@Check('ck_webhooks_enabled', `enabled = (disabled_reason IS NULL)`)
@Index('ix_webhooks_created', ['createdAt', 'id'])
export class WebhookEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS', primaryKeyConstraintName: 'pk_webhooks' })
  id: number;

  @Column({ type: 'varchar', length: 2048 })
  url: string;

  /** Event types, or `{*}` for all. */
  @Column({ type: 'varchar', length: 32, array: true })
  events: string[];

  /** A label selector over the labels of the event's model. */
  @Column({ type: 'varchar', length: 1024, nullable: true })
  selector: string | null;

  @Column({ name: 'model_id', type: 'bigint', nullable: true })
  modelId: number | null;

  @Column({ type: 'varchar', length: 1000, nullable: true })
  description: string | null;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @Column({ name: 'disabled_reason', type: 'varchar', length: 32, nullable: true })
  disabledReason: DisabledReason | null;

  @Column({ name: 'disabled_at', type: 'timestamptz', precision: 3, nullable: true })
  disabledAt: Date | null;

  /** The signing secret, encrypted (see secret-box.ts). */
  @Column({ name: 'secret_ciphertext', type: 'varchar', length: 256 })
  secretCiphertext: string;

  /** After a rotation, the previous secret keeps signing until `previous_secret_expires_at`. */
  @Column({ name: 'previous_secret_ciphertext', type: 'varchar', length: 256, nullable: true })
  previousSecretCiphertext: string | null;

  @Column({ name: 'previous_secret_expires_at', type: 'timestamptz', precision: 3, nullable: true })
  previousSecretExpiresAt: Date | null;

  /**
   * The transaction snapshot taken when the subscription was created (`xmin:xmax:in-progress`): events
   * of transactions that had committed by then are not delivered, every later one is.
   */
  @Column({ name: 'start_snapshot', type: 'text' })
  startSnapshot: string;

  /** While a replica is sending this subscription's next delivery; one at a time keeps feed order. */
  @Column({ name: 'lease_until', type: 'timestamptz', precision: 3, nullable: true })
  leaseUntil: Date | null;

  /** Start of the current run of failed attempts (null after a success). */
  @Column({ name: 'failing_since', type: 'timestamptz', precision: 3, nullable: true })
  failingSince: Date | null;

  @Column({ name: 'last_delivered_at', type: 'timestamptz', precision: 3, nullable: true })
  lastDeliveredAt: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  updatedAt: Date;
}
