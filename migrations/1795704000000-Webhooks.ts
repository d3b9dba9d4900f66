import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks: subscriptions to the change feed, their deliveries (queue and log in one table), the
 * dispatcher's position in the feed, and the labels of deleted models (for selector matching of the
 * events their deletion wrote).
 */
export class Webhooks1795704000000 implements MigrationInterface {
  name = 'Webhooks1795704000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "webhooks" (
        "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
        "url" character varying(2048) NOT NULL,
        "events" character varying(32) array NOT NULL,
        "selector" character varying(1024),
        "model_id" bigint,
        "description" character varying(1000),
        "enabled" boolean NOT NULL DEFAULT true,
        "disabled_reason" character varying(32),
        "disabled_at" TIMESTAMP(3) WITH TIME ZONE,
        "secret_ciphertext" character varying(256) NOT NULL,
        "previous_secret_ciphertext" character varying(256),
        "previous_secret_expires_at" TIMESTAMP(3) WITH TIME ZONE,
        "start_snapshot" text NOT NULL,
        "lease_until" TIMESTAMP(3) WITH TIME ZONE,
        "failing_since" TIMESTAMP(3) WITH TIME ZONE,
        "last_delivered_at" TIMESTAMP(3) WITH TIME ZONE,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_webhooks" PRIMARY KEY ("id"),
        CONSTRAINT "ck_webhooks_events" CHECK (cardinality(events) BETWEEN 1 AND 32),
        CONSTRAINT "ck_webhooks_disabled_reason" CHECK (disabled_reason IN ('manual', 'consecutive_failures')),
        CONSTRAINT "ck_webhooks_enabled" CHECK (enabled = (disabled_reason IS NULL))
      )`);
    await queryRunner.query(`CREATE INDEX "ix_webhooks_created" ON "webhooks" ("created_at", "id")`);

    await queryRunner.query(`
      CREATE TABLE "webhook_deliveries" (
        "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
        "webhook_id" bigint NOT NULL,
        "origin" character varying(16) NOT NULL,
        "message_id" character varying(64) NOT NULL,
        "event_id" bigint,
        "event_type" character varying(32) NOT NULL,
        "event_cursor" character varying(64),
        "occurred_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        "payload" text NOT NULL,
        "status" character varying(16) NOT NULL DEFAULT 'pending',
        "attempts" integer NOT NULL DEFAULT '0',
        "next_attempt_at" TIMESTAMP(3) WITH TIME ZONE,
        "give_up_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL,
        "last_attempt_at" TIMESTAMP(3) WITH TIME ZONE,
        "last_response_code" smallint,
        "last_duration_ms" integer,
        "last_response_body" text,
        "last_error" character varying(500),
        "delivered_at" TIMESTAMP(3) WITH TIME ZONE,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_webhook_deliveries" PRIMARY KEY ("id"),
        CONSTRAINT "fk_webhook_deliveries_webhook" FOREIGN KEY ("webhook_id") REFERENCES "webhooks"("id") ON DELETE CASCADE ON UPDATE NO ACTION,
        CONSTRAINT "ck_webhook_deliveries_status" CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
        CONSTRAINT "ck_webhook_deliveries_origin" CHECK (origin IN ('feed', 'replay', 'retry', 'test')),
        CONSTRAINT "ck_webhook_deliveries_attempts" CHECK (attempts >= 0),
        CONSTRAINT "ck_webhook_deliveries_queued" CHECK ((status IN ('pending', 'sending')) = (next_attempt_at IS NOT NULL)),
        CONSTRAINT "ck_webhook_deliveries_response_body" CHECK (octet_length(last_response_body) <= 1024)
      )`);
    await queryRunner.query(`CREATE INDEX "ix_webhook_deliveries_log" ON "webhook_deliveries" ("webhook_id", "created_at", "id")`);
    // Each subscription's queue, in order: the head is its first entry.
    await queryRunner.query(`CREATE INDEX "ix_webhook_deliveries_queue" ON "webhook_deliveries" ("webhook_id", "id") WHERE status IN ('pending', 'sending')`);
    // Pruning of the log.
    await queryRunner.query(`CREATE INDEX "ix_webhook_deliveries_finished" ON "webhook_deliveries" ("created_at") WHERE status IN ('delivered', 'failed')`);

    // Where the dispatcher is in the change feed. One row; whichever replica holds its lock dispatches.
    await queryRunner.query(`
      CREATE TABLE "webhook_dispatcher_state" (
        "singleton" boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        "cursor_tx" xid8 NOT NULL,
        "cursor_id" bigint NOT NULL,
        "dispatched_at" TIMESTAMP(3) WITH TIME ZONE
      )`);
    await queryRunner.query(`INSERT INTO "webhook_dispatcher_state" (singleton, cursor_tx, cursor_id) VALUES (true, '0', 0)`);

    // A model's events are matched against its labels; those written by its deletion are dispatched
    // after the row is gone, so its labels are kept here until the dispatcher has passed them.
    await queryRunner.query(`
      CREATE TABLE "webhook_model_tombstones" (
        "model_id" bigint PRIMARY KEY,
        "labels" jsonb,
        "tx_id" xid8 NOT NULL DEFAULT pg_current_xact_id()
      )`);
    await queryRunner.query(`
      CREATE FUNCTION webhook_model_tombstones() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        INSERT INTO webhook_model_tombstones (model_id, labels)
        SELECT o.id, o.labels FROM old_rows o
        ON CONFLICT (model_id) DO NOTHING;
        RETURN NULL;
      END $fn$`);
    await queryRunner.query(
      `CREATE TRIGGER models_webhook_tombstones AFTER DELETE ON models REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION webhook_model_tombstones()`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER IF EXISTS models_webhook_tombstones ON models`);
    await queryRunner.query(`DROP FUNCTION webhook_model_tombstones()`);
    await queryRunner.query(`DROP TABLE "webhook_model_tombstones"`);
    await queryRunner.query(`DROP TABLE "webhook_dispatcher_state"`);
    await queryRunner.query(`DROP TABLE "webhook_deliveries"`);
    await queryRunner.query(`DROP TABLE "webhooks"`);
  }
}
