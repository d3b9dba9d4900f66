import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Artifact safety:
 * - model_versions.artifact_key: the normalised artifact URI (written by the service), so "another live
 *   version uses this artifact" is one indexed lookup. Writing a version's artifact takes a transaction
 *   advisory lock on its key (class 72184, hashtext(key)) in a trigger, so that registration and the
 *   retention transaction that decides whether an artifact is shared serialise on the same lock.
 * - retention_journal: each retention item's progress (copying → delete/keep original; restoring; an
 *   archive copy to release), recorded before each step, so a crash is completed or reverted later.
 *   When a version stops referencing an archive copy (restore, purge, delete), a trigger records the
 *   release in the same transaction; the copy is deleted once no version references it.
 * - retention_runs.status 'abandoned': a run whose owner died (its session advisory lock is gone).
 */
export class ArtifactSafety1795700000000 implements MigrationInterface {
  name = 'ArtifactSafety1795700000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "model_versions" ADD "artifact_key" text`);
    // Hash indexes: equality is all that is asked of them, and keys have no length limit.
    await queryRunner.query(`CREATE INDEX "ix_model_versions_artifact_key" ON "model_versions" USING hash ("artifact_key") WHERE artifact_key IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "ix_model_versions_archive_uri" ON "model_versions" USING hash ("archive_uri") WHERE archive_uri IS NOT NULL`);
    // Versions written before this migration (or by hand) get their key computed by the service at start-up.
    await queryRunner.query(`CREATE INDEX "ix_model_versions_unkeyed" ON "model_versions" ("id") WHERE artifact_uri IS NOT NULL AND artifact_key IS NULL`);

    await queryRunner.query(`ALTER TABLE "retention_runs" DROP CONSTRAINT "ck_retention_runs_status"`);
    await queryRunner.query(
      `ALTER TABLE "retention_runs" ADD CONSTRAINT "ck_retention_runs_status" CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'skipped', 'abandoned'))`,
    );

    await queryRunner.query(`
      CREATE TABLE "retention_journal" (
        "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
        "state" character varying(16) NOT NULL,
        "version_id" bigint NOT NULL,
        "run_id" bigint,
        "artifact_uri" character varying(2048),
        "artifact_key" text,
        "archive_uri" text,
        "temp_name" character varying(64),
        "source_identity" jsonb,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_retention_journal" PRIMARY KEY ("id"),
        CONSTRAINT "ck_retention_journal_state" CHECK (state IN ('copying', 'delete_original', 'keep_original', 'release', 'restoring'))
      )`);
    await queryRunner.query(`CREATE INDEX "ix_retention_journal_state" ON "retention_journal" ("state", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_retention_journal_version" ON "retention_journal" ("version_id")`);

    await queryRunner.query(`
      CREATE FUNCTION model_versions_lock_artifact() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF NEW.artifact_key IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.artifact_uri IS DISTINCT FROM OLD.artifact_uri) THEN
          PERFORM pg_advisory_xact_lock(72184, hashtext(NEW.artifact_key));
        END IF;
        RETURN NEW;
      END $fn$`);
    await queryRunner.query(`
      CREATE TRIGGER model_versions_lock_artifact BEFORE INSERT OR UPDATE OF artifact_uri, artifact_key ON model_versions
        FOR EACH ROW EXECUTE FUNCTION model_versions_lock_artifact()`);

    await queryRunner.query(`
      CREATE FUNCTION model_versions_release_archive() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          INSERT INTO retention_journal (state, version_id, archive_uri)
          SELECT 'release', o.id, o.archive_uri FROM old_rows o WHERE o.archive_uri ~* '^(file|s3)://';
        ELSE
          INSERT INTO retention_journal (state, version_id, archive_uri)
          SELECT 'release', o.id, o.archive_uri FROM old_rows o JOIN new_rows n ON n.id = o.id
           WHERE o.archive_uri ~* '^(file|s3)://' AND n.archive_uri IS DISTINCT FROM o.archive_uri;
        END IF;
        RETURN NULL;
      END $fn$`);
    await queryRunner.query(`
      CREATE TRIGGER model_versions_release_deleted AFTER DELETE ON model_versions
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION model_versions_release_archive()`);
    await queryRunner.query(`
      CREATE TRIGGER model_versions_release_updated AFTER UPDATE ON model_versions
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION model_versions_release_archive()`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER model_versions_release_updated ON model_versions`);
    await queryRunner.query(`DROP TRIGGER model_versions_release_deleted ON model_versions`);
    await queryRunner.query(`DROP FUNCTION model_versions_release_archive()`);
    await queryRunner.query(`DROP TRIGGER model_versions_lock_artifact ON model_versions`);
    await queryRunner.query(`DROP FUNCTION model_versions_lock_artifact()`);
    await queryRunner.query(`DROP TABLE "retention_journal"`);
    await queryRunner.query(`UPDATE "retention_runs" SET status = 'failed' WHERE status = 'abandoned'`);
    await queryRunner.query(`ALTER TABLE "retention_runs" DROP CONSTRAINT "ck_retention_runs_status"`);
    await queryRunner.query(
      `ALTER TABLE "retention_runs" ADD CONSTRAINT "ck_retention_runs_status" CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'skipped'))`,
    );
    await queryRunner.query(`DROP INDEX "ix_model_versions_unkeyed"`);
    await queryRunner.query(`DROP INDEX "ix_model_versions_archive_uri"`);
    await queryRunner.query(`DROP INDEX "ix_model_versions_artifact_key"`);
    await queryRunner.query(`ALTER TABLE "model_versions" DROP COLUMN "artifact_key"`);
  }
}
