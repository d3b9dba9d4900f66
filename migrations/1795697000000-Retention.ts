import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retention: a per-model retention count, pinned versions (never archived), and a record of every
 * retention run. A scheduled run is unique per cron slot, which is what makes the nightly job run
 * once across replicas.
 */
export class Retention1795697000000 implements MigrationInterface {
  name = 'Retention1795697000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "models" ADD "retention_count" smallint`);
    await queryRunner.query(
      `ALTER TABLE "models" ADD CONSTRAINT "ck_models_retention_count" CHECK (retention_count >= 1 AND retention_count <= 10)`,
    );
    // Retention ranks each model's live versions newest first (ix_model_versions_model_created serves it).
    await queryRunner.query(`ALTER TABLE "model_versions" ADD "pinned" boolean NOT NULL DEFAULT false`);

    await queryRunner.query(`
      CREATE TABLE "retention_runs" (
        "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
        "trigger" character varying(16) NOT NULL,
        "scheduled_for" TIMESTAMP(3) WITH TIME ZONE,
        "status" character varying(16) NOT NULL DEFAULT 'running',
        "dry_run" boolean NOT NULL DEFAULT false,
        "purge" boolean NOT NULL DEFAULT false,
        "model_id" bigint,
        "retention_count" smallint,
        "storage" character varying(16) NOT NULL,
        "instance" character varying(128),
        "started_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "heartbeat_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "finished_at" TIMESTAMP(3) WITH TIME ZONE,
        "duration_ms" integer,
        "models_count" integer NOT NULL DEFAULT 0,
        "kept_count" integer NOT NULL DEFAULT 0,
        "archived_count" integer NOT NULL DEFAULT 0,
        "archived_bytes" bigint NOT NULL DEFAULT 0,
        "failed_count" integer NOT NULL DEFAULT 0,
        "purged_count" integer NOT NULL DEFAULT 0,
        "failures" jsonb NOT NULL DEFAULT '[]',
        "error" character varying(2000),
        CONSTRAINT "pk_retention_runs" PRIMARY KEY ("id"),
        CONSTRAINT "ck_retention_runs_trigger" CHECK (trigger IN ('manual', 'scheduled')),
        CONSTRAINT "ck_retention_runs_status" CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'skipped')),
        CONSTRAINT "ck_retention_runs_slot" CHECK ((trigger = 'scheduled') = (scheduled_for IS NOT NULL))
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX "uq_retention_runs_slot" ON "retention_runs" ("scheduled_for") WHERE trigger = 'scheduled'`);
    await queryRunner.query(`CREATE INDEX "ix_retention_runs_started" ON "retention_runs" ("started_at", "id")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "retention_runs"`);
    await queryRunner.query(`ALTER TABLE "model_versions" DROP COLUMN "pinned"`);
    await queryRunner.query(`ALTER TABLE "models" DROP CONSTRAINT "ck_models_retention_count"`);
    await queryRunner.query(`ALTER TABLE "models" DROP COLUMN "retention_count"`);
  }
}
