import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * An API key. The key itself is never stored: only its SHA-256 (a key carries 256 random bits, so a
 * fast hash is as safe as a slow one) and its visible prefix, by which a presented key is found
 * before its hash is compared in constant time. Keys are revoked, never deleted: audit rows name them.
 */
@Entity({ name: 'api_keys' })
@Check('ck_api_keys_name', `char_length(name) BETWEEN 1 AND 100`)
@Check('ck_api_keys_key_hash', `octet_length(key_hash) = 32`)
@Check('ck_api_keys_scopes', `cardinality(scopes) >= 1 AND scopes <@ ARRAY['registry:read', 'registry:write', 'registry:manage', 'usage:report', 'retention:run', 'admin']::text[]`)
@Check('ck_api_keys_models', `models IS NULL OR cardinality(models) BETWEEN 1 AND 50`)
@Index('uq_api_keys_prefix', ['prefix'], { unique: true })
@Index('ix_api_keys_revoked', { synchronize: false })
@Index('ix_api_keys_created', ['createdAt', 'id'])
export class ApiKeyEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS', primaryKeyConstraintName: 'pk_api_keys' })
  id: number;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'varchar', length: 32 })
  prefix: string;

  @Column({ name: 'key_hash', type: 'bytea' })
  keyHash: Buffer;

  @Column({ type: 'text', array: true })
  scopes: string[];

  /** Model-name globs the key is limited to; null: every model. */
  @Column({ type: 'text', array: true, nullable: true })
  models: string[] | null;

  @Column({ name: 'expires_at', type: 'timestamptz', precision: 3, nullable: true })
  expiresAt: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'created_by', type: 'varchar', length: 300, nullable: true })
  createdBy: string | null;

  /** Updated at most once a minute per replica, not on every request. */
  @Column({ name: 'last_used_at', type: 'timestamptz', precision: 3, nullable: true })
  lastUsedAt: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', precision: 3, nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'revoked_by', type: 'varchar', length: 300, nullable: true })
  revokedBy: string | null;
}
