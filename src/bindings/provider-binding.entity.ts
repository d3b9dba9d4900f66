import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';
import { decimalTransformer } from '../database/transformers';
import { ModelVersionEntity } from '../versions/model-version.entity';
import { BINDING_CAPABILITIES } from './capabilities';

export const BINDING_STATUSES = ['active', 'inactive', 'deprecated'] as const;
export type BindingStatus = (typeof BINDING_STATUSES)[number];

@Entity({ name: 'provider_bindings' })
@Unique('uq_provider_bindings_version_provider_model', ['versionId', 'provider', 'providerModelId'])
@Check('ck_provider_bindings_status', `status IN ('active', 'inactive', 'deprecated')`)
@Check('ck_provider_bindings_config', `jsonb_typeof(config) = 'object' AND octet_length(config::text) <= 16384`)
@Check('ck_provider_bindings_avg_latency_ms', `avg_latency_ms >= 0`)
@Check('ck_provider_bindings_success_rate', `success_rate >= 0 AND success_rate <= 1`)
@Check(
  'ck_provider_bindings_pricing',
  `num_nonnulls(input_per_1m_tokens, output_per_1m_tokens, currency) = 0 OR (num_nonnulls(input_per_1m_tokens, output_per_1m_tokens, currency) = 3 AND input_per_1m_tokens >= 0 AND output_per_1m_tokens >= 0 AND currency ~ '^[A-Z]{3}$')`,
)
@Check('ck_provider_bindings_context_window', `context_window >= 1`)
@Check('ck_provider_bindings_max_output_tokens', `max_output_tokens >= 1`)
@Check('ck_provider_bindings_capabilities', `capabilities <@ ARRAY[${BINDING_CAPABILITIES.map((c) => `'${c}'`).join(', ')}]::text[]`)
@Index('ix_provider_bindings_version', ['versionId', 'id'])
@Index('ix_provider_bindings_created', ['createdAt', 'id'])
@Index('ix_provider_bindings_provider', ['provider', 'id'])
@Index('ix_provider_bindings_status', ['status', 'id'])
@Index('ix_provider_bindings_active', { synchronize: false })
@Index('ix_provider_bindings_latency', { synchronize: false })
@Index('ix_provider_bindings_success_rate', { synchronize: false })
@Index('ix_provider_bindings_labels', { synchronize: false })
export class ProviderBindingEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS', primaryKeyConstraintName: 'pk_provider_bindings' })
  id: number;

  @Column({ name: 'version_id', type: 'bigint' })
  versionId: number;

  @ManyToOne(() => ModelVersionEntity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'version_id', foreignKeyConstraintName: 'fk_provider_bindings_version' })
  version?: ModelVersionEntity;

  @Column({ type: 'varchar', length: 64 })
  provider: string;

  @Column({ name: 'provider_model_id', type: 'varchar', length: 256 })
  providerModelId: string;

  @Column({ type: 'varchar', length: 16, default: 'active' })
  status: BindingStatus;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  config: Record<string, unknown>;

  @Column({ name: 'endpoint_url', type: 'varchar', length: 2048, nullable: true })
  endpointUrl: string | null;

  @Column({ name: 'avg_latency_ms', type: 'double precision', nullable: true })
  avgLatencyMs: number | null;

  @Column({ name: 'success_rate', type: 'double precision', nullable: true })
  successRate: number | null;

  @Column({ name: 'last_used_at', type: 'timestamptz', precision: 3, nullable: true })
  lastUsedAt: Date | null;

  /** Usage samples reported so far (POST /bindings/{id}/usage). */
  @Column({ name: 'usage_samples', type: 'bigint', default: 0 })
  usageSamples: number;

  /** Kubernetes-style labels; their rules are checked by a trigger (migration 1795703000000). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  labels: Record<string, string>;

  /** Pricing: all three columns or none (the API's `pricing` object). */
  @Column({ name: 'input_per_1m_tokens', type: 'numeric', precision: 20, scale: 10, nullable: true, transformer: decimalTransformer })
  inputPer1mTokens: number | null;

  @Column({ name: 'output_per_1m_tokens', type: 'numeric', precision: 20, scale: 10, nullable: true, transformer: decimalTransformer })
  outputPer1mTokens: number | null;

  /** ISO 4217 code. */
  @Column({ type: 'varchar', length: 3, nullable: true })
  currency: string | null;

  @Column({ name: 'context_window', type: 'integer', nullable: true })
  contextWindow: number | null;

  @Column({ name: 'max_output_tokens', type: 'integer', nullable: true })
  maxOutputTokens: number | null;

  /** A set from BINDING_CAPABILITIES, stored in the enum's order. */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  capabilities: string[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
