import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const ACTOR_TYPES = ['api_key', 'oidc', 'bootstrap', 'anonymous', 'metrics', 'system'] as const;

/**
 * One audited mutation: who, what, when, and the changed fields before and after. Append-only: the
 * database refuses UPDATE, TRUNCATE and DELETE, except deletions of old rows by prune_audit_log()
 * (see the IdentityAudit migration).
 */
@Entity({ name: 'audit_log' })
@Check('ck_audit_log_actor_type', `actor_type IN ('api_key', 'oidc', 'bootstrap', 'anonymous', 'metrics', 'system')`)
@Index('ix_audit_log_occurred', ['occurredAt', 'id'])
@Index('ix_audit_log_actor', ['actor', 'occurredAt'])
@Index('ix_audit_log_resource', ['resourceType', 'resourceId', 'occurredAt'])
export class AuditEntryEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS', primaryKeyConstraintName: 'pk_audit_log' })
  id: number;

  @Column({ name: 'occurred_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  occurredAt: Date;

  @Column({ type: 'varchar', length: 300 })
  actor: string;

  @Column({ name: 'actor_type', type: 'varchar', length: 16 })
  actorType: string;

  @Column({ name: 'actor_key_id', type: 'bigint', nullable: true })
  actorKeyId: number | null;

  @Column({ name: 'actor_name', type: 'varchar', length: 100, nullable: true })
  actorName: string | null;

  @Column({ name: 'actor_subject', type: 'varchar', length: 255, nullable: true })
  actorSubject: string | null;

  @Column({ type: 'varchar', length: 64 })
  action: string;

  @Column({ name: 'resource_type', type: 'varchar', length: 32 })
  resourceType: string;

  @Column({ name: 'resource_id', type: 'varchar', length: 200, nullable: true })
  resourceId: string | null;

  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId: string | null;

  @Column({ type: 'jsonb', nullable: true })
  before: Record<string, unknown> | null;

  @Column({ type: 'jsonb', nullable: true })
  after: Record<string, unknown> | null;
}
