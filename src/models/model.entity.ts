import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'models' })
@Unique('uq_models_name', ['name'])
@Check('ck_models_name', `name ~ '^[a-z0-9][a-z0-9._-]{0,127}$'`)
@Check('ck_models_task', `task ~ '^[a-z0-9][a-z0-9_-]{0,63}$'`)
@Check('ck_models_subject', `subject ~ '^[a-z0-9][a-z0-9_-]{0,63}$'`)
@Check('ck_models_retention_count', `retention_count >= 1 AND retention_count <= 10`)
@Index('ix_models_task', ['task', 'name'])
@Index('ix_models_subject', ['subject', 'name'])
@Index('ix_models_created', ['createdAt', 'id'])
@Index('ix_models_updated', ['updatedAt', 'id'])
// Trigram index for `q` (name substring) and GIN index for label selectors, created by the migration.
@Index('ix_models_name_trgm', { synchronize: false })
@Index('ix_models_labels', { synchronize: false })
export class ModelEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS', primaryKeyConstraintName: 'pk_models' })
  id: number;

  @Column({ type: 'varchar', length: 128, collation: 'C' })
  name: string;

  @Column({ type: 'varchar', length: 64 })
  task: string;

  @Column({ type: 'varchar', length: 64 })
  subject: string;

  @Column({ type: 'varchar', length: 4000, nullable: true })
  description: string | null;

  /** Versions retention keeps for this model; null: DEFAULT_RETENTION_COUNT. */
  @Column({ name: 'retention_count', type: 'smallint', nullable: true })
  retentionCount: number | null;

  /** Kubernetes-style labels; their rules are checked by a trigger (migration 1795703000000). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  labels: Record<string, string>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
