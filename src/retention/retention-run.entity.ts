import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const RUN_TRIGGERS = ['manual', 'scheduled'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];
export const RUN_STATUSES = ['running', 'succeeded', 'partial', 'failed', 'skipped', 'abandoned'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** One retention run, manual or scheduled, dry or real. */
@Entity({ name: 'retention_runs' })
@Check('ck_retention_runs_trigger', `trigger IN ('manual', 'scheduled')`)
@Check('ck_retention_runs_status', `status IN ('running', 'succeeded', 'partial', 'failed', 'skipped', 'abandoned')`)
@Check('ck_retention_runs_slot', `(trigger = 'scheduled') = (scheduled_for IS NOT NULL)`)
@Index('uq_retention_runs_slot', { synchronize: false })
@Index('ix_retention_runs_started', ['startedAt', 'id'])
export class RetentionRunEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS', primaryKeyConstraintName: 'pk_retention_runs' })
  id: number;

  @Column({ type: 'varchar', length: 16 })
  trigger: RunTrigger;

  /** The cron slot a scheduled run belongs to (unique: one run per slot across replicas). */
  @Column({ name: 'scheduled_for', type: 'timestamptz', precision: 3, nullable: true })
  scheduledFor: Date | null;

  @Column({ type: 'varchar', length: 16, default: 'running' })
  status: RunStatus;

  @Column({ name: 'dry_run', type: 'boolean', default: false })
  dryRun: boolean;

  @Column({ type: 'boolean', default: false })
  purge: boolean;

  @Column({ name: 'model_id', type: 'bigint', nullable: true })
  modelId: number | null;

  @Column({ name: 'retention_count', type: 'smallint', nullable: true })
  retentionCount: number | null;

  @Column({ type: 'varchar', length: 16 })
  storage: string;

  @Column({ type: 'varchar', length: 128, nullable: true })
  instance: string | null;

  @Column({ name: 'started_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  startedAt: Date;

  @Column({ name: 'heartbeat_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  heartbeatAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', precision: 3, nullable: true })
  finishedAt: Date | null;

  @Column({ name: 'duration_ms', type: 'integer', nullable: true })
  durationMs: number | null;

  @Column({ name: 'models_count', type: 'integer', default: 0 })
  modelsCount: number;

  @Column({ name: 'kept_count', type: 'integer', default: 0 })
  keptCount: number;

  @Column({ name: 'archived_count', type: 'integer', default: 0 })
  archivedCount: number;

  @Column({ name: 'archived_bytes', type: 'bigint', default: 0 })
  archivedBytes: number;

  @Column({ name: 'failed_count', type: 'integer', default: 0 })
  failedCount: number;

  @Column({ name: 'purged_count', type: 'integer', default: 0 })
  purgedCount: number;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  failures: unknown[];

  @Column({ type: 'varchar', length: 2000, nullable: true })
  error: string | null;
}
