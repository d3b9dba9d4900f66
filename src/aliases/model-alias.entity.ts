import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { ModelEntity } from '../models/model.entity';
import { ModelVersionEntity } from '../versions/model-version.entity';

/** A named pointer (production, staging, …) from a model to one of its live versions. */
@Entity({ name: 'model_aliases' })
@Check('ck_model_aliases_alias', `alias ~ '^[a-z0-9][a-z0-9_-]{0,63}$' AND alias <> 'latest'`)
@Index('ix_model_aliases_version', ['versionId'])
export class ModelAliasEntity {
  @PrimaryColumn({ name: 'model_id', type: 'bigint', primaryKeyConstraintName: 'pk_model_aliases' })
  modelId: number;

  @PrimaryColumn({ type: 'varchar', length: 64, primaryKeyConstraintName: 'pk_model_aliases' })
  alias: string;

  @Column({ name: 'version_id', type: 'bigint' })
  versionId: number;

  @ManyToOne(() => ModelEntity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'model_id', foreignKeyConstraintName: 'fk_model_aliases_model' })
  model?: ModelEntity;

  /** Composite: the version must belong to the alias's model. No cascade: an aliased version cannot be deleted alone. */
  @ManyToOne(() => ModelVersionEntity, { nullable: false })
  @JoinColumn([
    { name: 'version_id', referencedColumnName: 'id', foreignKeyConstraintName: 'fk_model_aliases_version' },
    { name: 'model_id', referencedColumnName: 'modelId', foreignKeyConstraintName: 'fk_model_aliases_version' },
  ])
  version?: ModelVersionEntity;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 })
  updatedAt: Date;
}
