import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';
import { decimalTransformer } from '../database/transformers';
import { ModelEntity } from '../models/model.entity';

@Entity({ name: 'model_versions' })
@Unique('uq_model_versions_model_hash', ['modelId', 'hash'])
@Unique('uq_model_versions_model_version', ['modelId', 'version'])
@Unique('uq_model_versions_id_model', ['id', 'modelId'])
@Check('ck_model_versions_hash', `hash ~ '^[0-9a-f]{64}$'`)
@Check('ck_model_versions_eval_score', `eval_score >= 0 AND eval_score <= 1`)
@Check('ck_model_versions_cost_per_1k', `cost_per_1k >= 0`)
@Check('ck_model_versions_size_bytes', `size_bytes >= 0 AND size_bytes <= 9007199254740991`)
@Index('ix_model_versions_model_created', ['modelId', 'createdAt', 'id'])
@Index('ix_model_versions_model_semver', ['modelId', 'versionSortKey', 'id'])
@Index('ix_model_versions_created', ['createdAt', 'id'])
@Index('ix_model_versions_region', ['region'])
@Index('ix_model_versions_framework', ['framework'])
@Index('ix_model_versions_model_type', ['modelType'])
// Expression and partial indexes are created by the migration; TypeORM must not try to sync them.
@Index('ix_model_versions_eval_score', { synchronize: false })
@Index('ix_model_versions_cost', { synchronize: false })
@Index('ix_model_versions_semver', { synchronize: false })
@Index('ix_model_versions_archived', { synchronize: false })
@Index('ix_model_versions_live_eval', { synchronize: false })
@Index('ix_model_versions_live_cost', { synchronize: false })
@Index('ix_model_versions_labels', { synchronize: false })
@Index('ix_model_versions_artifact_key', { synchronize: false })
@Index('ix_model_versions_archive_uri', { synchronize: false })
@Index('ix_model_versions_unkeyed', { synchronize: false })
export class ModelVersionEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS', primaryKeyConstraintName: 'pk_model_versions' })
  id: number;

  @Column({ name: 'model_id', type: 'bigint' })
  modelId: number;

  @ManyToOne(() => ModelEntity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'model_id', foreignKeyConstraintName: 'fk_model_versions_model' })
  model?: ModelEntity;

  @Column({ type: 'char', length: 64 })
  hash: string;

  @Column({ type: 'varchar', length: 256 })
  version: string;

  /** Byte-wise sortable form of `version` in SemVer precedence (see semver.ts); collation "C". */
  @Column({ name: 'version_sort_key', type: 'varchar', length: 1024, collation: 'C' })
  versionSortKey: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  region: string | null;

  @Column({ name: 'cost_per_1k', type: 'numeric', precision: 20, scale: 10, nullable: true, transformer: decimalTransformer })
  costPer1k: number | null;

  @Column({ name: 'eval_score', type: 'double precision', nullable: true })
  evalScore: number | null;

  @Column({ name: 'slo_ok', type: 'boolean', default: true })
  sloOk: boolean;

  @Column({ name: 'artifact_uri', type: 'varchar', length: 2048, nullable: true })
  artifactUri: string | null;

  /** Set by retention only (clients cannot write it): where the archived copy of the artifact is. */
  @Column({ name: 'archive_uri', type: 'varchar', length: 2048, nullable: true })
  archiveUri: string | null;

  /**
   * The normalised artifact URI (config/artifact-uri.ts), written by the service: versions
   * with equal keys share one artifact. Writing it takes the artifact's advisory lock (a trigger).
   */
  @Column({ name: 'artifact_key', type: 'text', nullable: true })
  artifactKey: string | null;

  @Column({ name: 'size_bytes', type: 'bigint', nullable: true })
  sizeBytes: number | null;

  @Column({ name: 'model_type', type: 'varchar', length: 64, nullable: true })
  modelType: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  framework: string | null;

  /** Pinned versions are never archived or purged by retention. */
  @Column({ type: 'boolean', default: false })
  pinned: boolean;

  /** Kubernetes-style labels; their rules are checked by a trigger (migration 1795703000000). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  labels: Record<string, string>;

  /** Where the version came from: an absolute URI (runs:/<run_id>/model, s3://…, https://…). */
  @Column({ type: 'varchar', length: 2048, nullable: true })
  source: string | null;

  /** Model card, signature, eval details: a JSON object (size checked by a trigger). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  metadata: Record<string, unknown>;

  /** SHA-256 of `metadata`, kept by the trigger; the change feed compares it instead of the metadata. */
  @Column({ name: 'metadata_digest', type: 'bytea', default: () => "'\\x44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'", select: false })
  metadataDigest: Buffer;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;

  @Column({ name: 'archived_at', type: 'timestamptz', precision: 3, nullable: true })
  archivedAt: Date | null;
}
