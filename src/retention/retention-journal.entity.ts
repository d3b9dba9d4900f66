import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The progress of one retention item, recorded before each step so that a crash is completed or
 * reverted by the next run (or start-up recovery):
 * - copying: the artifact is being copied to `archive_uri` (the version is still live);
 * - delete_original: the version is archived; its original is to be deleted;
 * - keep_original: the version is archived, but live versions still use the original: it is deleted
 *   once none does;
 * - restoring: the archive copy is being put back at `artifact_uri`;
 * - release: no version may reference `archive_uri` any more (restore, purge, delete): the copy is
 *   deleted unless another version still references it.
 */
export const JOURNAL_STATES = ['copying', 'delete_original', 'keep_original', 'release', 'restoring'] as const;
export type JournalState = (typeof JOURNAL_STATES)[number];

@Entity({ name: 'retention_journal' })
@Check('ck_retention_journal_state', `state IN ('copying', 'delete_original', 'keep_original', 'release', 'restoring')`)
@Index('ix_retention_journal_state', ['state', 'id'])
@Index('ix_retention_journal_version', ['versionId'])
export class RetentionJournalEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS', primaryKeyConstraintName: 'pk_retention_journal' })
  id: number;

  @Column({ type: 'varchar', length: 16 })
  state: JournalState;

  /** No foreign key: an entry outlives its version (a release after a purge). */
  @Column({ name: 'version_id', type: 'bigint' })
  versionId: number;

  @Column({ name: 'run_id', type: 'bigint', nullable: true })
  runId: number | null;

  @Column({ name: 'artifact_uri', type: 'varchar', length: 2048, nullable: true })
  artifactUri: string | null;

  @Column({ name: 'artifact_key', type: 'text', nullable: true })
  artifactKey: string | null;

  @Column({ name: 'archive_uri', type: 'text', nullable: true })
  archiveUri: string | null;

  /** The temporary file a copy writes next to its destination, removed by recovery if left. */
  @Column({ name: 'temp_name', type: 'varchar', length: 64, nullable: true })
  tempName: string | null;

  /** What the original was when copied (inode, or ETag): only that is ever deleted. */
  @Column({ name: 'source_identity', type: 'jsonb', nullable: true })
  sourceIdentity: Record<string, unknown> | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  updatedAt: Date;
}
