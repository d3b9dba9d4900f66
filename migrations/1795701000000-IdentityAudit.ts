import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Identity and audit: API keys (stored as hashes), an append-only audit log, and the actor of every
 * change event.
 *
 * The audit log refuses UPDATE and TRUNCATE outright, and DELETE of any row except through
 * `prune_audit_log(retention_days)`, which removes rows older than that many days (at least 1: the last
 * day can never be deleted). The service calls it nightly with AUDIT_RETENTION_DAYS; operators can call
 * it too: `SELECT prune_audit_log(365);`.
 *
 * Change events get an `actor` column whose default is the transaction-local setting
 * `model_registry.actor`, which the service sets at the start of every transaction it runs for a
 * caller: the existing event triggers need no change.
 */
export class IdentityAudit1795701000000 implements MigrationInterface {
  name = 'IdentityAudit1795701000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "api_keys" (
        "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
        "name" character varying(100) NOT NULL,
        "prefix" character varying(32) NOT NULL,
        "key_hash" bytea NOT NULL,
        "scopes" text array NOT NULL,
        "models" text array,
        "expires_at" TIMESTAMP(3) WITH TIME ZONE,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "created_by" character varying(300),
        "last_used_at" TIMESTAMP(3) WITH TIME ZONE,
        "revoked_at" TIMESTAMP(3) WITH TIME ZONE,
        "revoked_by" character varying(300),
        CONSTRAINT "pk_api_keys" PRIMARY KEY ("id"),
        CONSTRAINT "ck_api_keys_name" CHECK (char_length(name) BETWEEN 1 AND 100),
        CONSTRAINT "ck_api_keys_key_hash" CHECK (octet_length(key_hash) = 32),
        CONSTRAINT "ck_api_keys_scopes" CHECK (cardinality(scopes) >= 1 AND scopes <@ ARRAY['registry:read', 'registry:write', 'registry:manage', 'usage:report', 'retention:run', 'admin']::text[]),
        CONSTRAINT "ck_api_keys_models" CHECK (models IS NULL OR cardinality(models) BETWEEN 1 AND 50)
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_api_keys_prefix" ON "api_keys" ("prefix")`);
    await queryRunner.query(`CREATE INDEX "ix_api_keys_created" ON "api_keys" ("created_at", "id")`);
    // Replicas poll for recent revocations every second.
    await queryRunner.query(`CREATE INDEX "ix_api_keys_revoked" ON "api_keys" ("revoked_at") WHERE revoked_at IS NOT NULL`);

    await queryRunner.query(`
      CREATE TABLE "audit_log" (
        "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
        "occurred_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "actor" character varying(300) NOT NULL,
        "actor_type" character varying(16) NOT NULL,
        "actor_key_id" bigint,
        "actor_name" character varying(100),
        "actor_subject" character varying(255),
        "action" character varying(64) NOT NULL,
        "resource_type" character varying(32) NOT NULL,
        "resource_id" character varying(200),
        "request_id" character varying(128),
        "before" jsonb,
        "after" jsonb,
        CONSTRAINT "pk_audit_log" PRIMARY KEY ("id"),
        CONSTRAINT "ck_audit_log_actor_type" CHECK (actor_type IN ('api_key', 'oidc', 'bootstrap', 'anonymous', 'metrics', 'system'))
      )`);
    await queryRunner.query(`CREATE INDEX "ix_audit_log_occurred" ON "audit_log" ("occurred_at", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_audit_log_actor" ON "audit_log" ("actor", "occurred_at")`);
    await queryRunner.query(`CREATE INDEX "ix_audit_log_resource" ON "audit_log" ("resource_type", "resource_id", "occurred_at")`);

    await queryRunner.query(`
      CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
          USING ERRCODE = 'insufficient_privilege', HINT = 'Old rows are removed by prune_audit_log(retention_days).';
      END $fn$`);
    await queryRunner.query(`
      CREATE FUNCTION audit_log_guard_delete() RETURNS trigger LANGUAGE plpgsql AS $fn$
      DECLARE
        prune_before text := current_setting('model_registry.audit_prune_before', true);
      BEGIN
        IF prune_before IS NOT NULL AND prune_before <> '' AND OLD.occurred_at < prune_before::timestamptz
           AND OLD.occurred_at < now() - interval '1 day' THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_log is append-only: rows are only deleted by prune_audit_log(retention_days)'
          USING ERRCODE = 'insufficient_privilege';
      END $fn$`);
    await queryRunner.query(`CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()`);
    await queryRunner.query(`CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()`);
    await queryRunner.query(`CREATE TRIGGER audit_log_guard_delete BEFORE DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_guard_delete()`);
    await queryRunner.query(`
      CREATE FUNCTION prune_audit_log(retention_days integer) RETURNS bigint LANGUAGE plpgsql AS $fn$
      DECLARE
        cutoff timestamptz;
        deleted bigint;
      BEGIN
        IF retention_days IS NULL OR retention_days < 1 THEN
          RAISE EXCEPTION 'retention_days must be at least 1 (got %)', retention_days USING ERRCODE = 'invalid_parameter_value';
        END IF;
        cutoff := now() - make_interval(days => retention_days);
        PERFORM set_config('model_registry.audit_prune_before', cutoff::text, true);
        DELETE FROM audit_log WHERE occurred_at < cutoff;
        GET DIAGNOSTICS deleted = ROW_COUNT;
        PERFORM set_config('model_registry.audit_prune_before', '', true);
        RETURN deleted;
      END $fn$`);
    await queryRunner.query(
      `COMMENT ON FUNCTION prune_audit_log(integer) IS 'Deletes audit_log rows older than retention_days (>= 1) days; the only way rows leave the audit log.'`,
    );

    await queryRunner.query(`ALTER TABLE "events" ADD "actor" character varying(300) DEFAULT NULLIF(current_setting('model_registry.actor', true), '')`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "events" DROP COLUMN "actor"`);
    await queryRunner.query(`DROP TABLE "audit_log"`);
    await queryRunner.query(`DROP FUNCTION prune_audit_log(integer), audit_log_guard_delete(), audit_log_refuse_change()`);
    await queryRunner.query(`DROP TABLE "api_keys"`);
  }
}
