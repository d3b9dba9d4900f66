import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Models, their versions and provider bindings. Every rule a client could break is a named constraint
 * (see src/database/constraints.ts for what each one tells the client); every list filter and sort
 * order has an index, including expression indexes whose NULL placement matches the list queries.
 */
export class InitialSchema1795695324483 implements MigrationInterface {
  name = 'InitialSchema1795695324483';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);

    await queryRunner.query(`
      CREATE TABLE "models" (
        "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
        "name" character varying(128) COLLATE "C" NOT NULL,
        "task" character varying(64) NOT NULL,
        "subject" character varying(64) NOT NULL,
        "description" character varying(4000),
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_models" PRIMARY KEY ("id"),
        CONSTRAINT "uq_models_name" UNIQUE ("name"),
        CONSTRAINT "ck_models_name" CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,127}$'),
        CONSTRAINT "ck_models_task" CHECK (task ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
        CONSTRAINT "ck_models_subject" CHECK (subject ~ '^[a-z0-9][a-z0-9_-]{0,63}$')
      )`);
    await queryRunner.query(`CREATE INDEX "ix_models_task" ON "models" ("task", "name")`);
    await queryRunner.query(`CREATE INDEX "ix_models_subject" ON "models" ("subject", "name")`);
    await queryRunner.query(`CREATE INDEX "ix_models_created" ON "models" ("created_at", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_models_updated" ON "models" ("updated_at", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_models_name_trgm" ON "models" USING gin ("name" gin_trgm_ops)`);

    await queryRunner.query(`
      CREATE TABLE "model_versions" (
        "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
        "model_id" bigint NOT NULL,
        "hash" character(64) NOT NULL,
        "version" character varying(256) NOT NULL,
        "version_sort_key" character varying(1024) COLLATE "C" NOT NULL,
        "region" character varying(64),
        "cost_per_1k" numeric(20,10),
        "eval_score" double precision,
        "slo_ok" boolean NOT NULL DEFAULT true,
        "artifact_uri" character varying(2048),
        "archive_uri" character varying(2048),
        "size_bytes" bigint,
        "model_type" character varying(64),
        "framework" character varying(64),
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "archived_at" TIMESTAMP(3) WITH TIME ZONE,
        CONSTRAINT "pk_model_versions" PRIMARY KEY ("id"),
        CONSTRAINT "uq_model_versions_model_hash" UNIQUE ("model_id", "hash"),
        CONSTRAINT "uq_model_versions_model_version" UNIQUE ("model_id", "version"),
        CONSTRAINT "ck_model_versions_hash" CHECK (hash ~ '^[0-9a-f]{64}$'),
        CONSTRAINT "ck_model_versions_eval_score" CHECK (eval_score >= 0 AND eval_score <= 1),
        CONSTRAINT "ck_model_versions_cost_per_1k" CHECK (cost_per_1k >= 0),
        CONSTRAINT "ck_model_versions_size_bytes" CHECK (size_bytes >= 0 AND size_bytes <= 9007199254740991),
        CONSTRAINT "fk_model_versions_model" FOREIGN KEY ("model_id") REFERENCES "models"("id") ON DELETE CASCADE
      )`);
    // Per-model lists (the common case: newest first, or by SemVer; a model's few versions sort
    // cheaply by score or cost once found) and catalog-wide lists, for each sort order. Every index
    // is paid for by every write (retention archives rows in bulk), so there are no more than these.
    await queryRunner.query(`CREATE INDEX "ix_model_versions_model_created" ON "model_versions" ("model_id", "created_at", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_model_versions_model_semver" ON "model_versions" ("model_id", "version_sort_key", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_model_versions_created" ON "model_versions" ("created_at", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_model_versions_semver" ON "model_versions" ("version_sort_key", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_model_versions_eval_score" ON "model_versions" ((COALESCE(eval_score, -1)), "id")`);
    await queryRunner.query(`CREATE INDEX "ix_model_versions_cost" ON "model_versions" ((COALESCE(cost_per_1k, 'Infinity')), "id")`);
    await queryRunner.query(`CREATE INDEX "ix_model_versions_region" ON "model_versions" ("region")`);
    await queryRunner.query(`CREATE INDEX "ix_model_versions_framework" ON "model_versions" ("framework")`);
    await queryRunner.query(`CREATE INDEX "ix_model_versions_model_type" ON "model_versions" ("model_type")`);
    await queryRunner.query(`CREATE INDEX "ix_model_versions_archived" ON "model_versions" ("archived_at", "id") WHERE archived_at IS NOT NULL`);

    await queryRunner.query(`
      CREATE TABLE "provider_bindings" (
        "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
        "version_id" bigint NOT NULL,
        "provider" character varying(64) NOT NULL,
        "provider_model_id" character varying(256) NOT NULL,
        "status" character varying(16) NOT NULL DEFAULT 'active',
        "config" jsonb NOT NULL DEFAULT '{}',
        "endpoint_url" character varying(2048),
        "avg_latency_ms" double precision,
        "success_rate" double precision,
        "last_used_at" TIMESTAMP(3) WITH TIME ZONE,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_provider_bindings" PRIMARY KEY ("id"),
        CONSTRAINT "uq_provider_bindings_version_provider_model" UNIQUE ("version_id", "provider", "provider_model_id"),
        CONSTRAINT "ck_provider_bindings_status" CHECK (status IN ('active', 'inactive', 'deprecated')),
        CONSTRAINT "ck_provider_bindings_config" CHECK (jsonb_typeof(config) = 'object' AND octet_length(config::text) <= 16384),
        CONSTRAINT "ck_provider_bindings_avg_latency_ms" CHECK (avg_latency_ms >= 0),
        CONSTRAINT "ck_provider_bindings_success_rate" CHECK (success_rate >= 0 AND success_rate <= 1),
        CONSTRAINT "fk_provider_bindings_version" FOREIGN KEY ("version_id") REFERENCES "model_versions"("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "ix_provider_bindings_version" ON "provider_bindings" ("version_id", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_provider_bindings_created" ON "provider_bindings" ("created_at", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_provider_bindings_provider" ON "provider_bindings" ("provider", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_provider_bindings_status" ON "provider_bindings" ("status", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_provider_bindings_active" ON "provider_bindings" ("version_id") WHERE status = 'active'`);
    await queryRunner.query(`CREATE INDEX "ix_provider_bindings_latency" ON "provider_bindings" ((COALESCE(avg_latency_ms, 'Infinity')), "id")`);
    await queryRunner.query(`CREATE INDEX "ix_provider_bindings_success_rate" ON "provider_bindings" ((COALESCE(success_rate, -1)), "id")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "provider_bindings"`);
    await queryRunner.query(`DROP TABLE "model_versions"`);
    await queryRunner.query(`DROP TABLE "models"`);
  }
}
