import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The names of the listed columns that differ between `o` and `n` (one row's old and new versions),
 * as a jsonb array. Explicit comparisons: converting rows to jsonb made bulk updates (retention
 * archiving 170,000 versions) three times slower.
 */
const changed = (columns: string[]) =>
  `to_jsonb(array_remove(ARRAY[${columns.map((c) => `CASE WHEN n.${c} IS DISTINCT FROM o.${c} THEN '${c}' END`).join(', ')}]::text[], NULL))`;

const MODEL_COLUMNS = ['name', 'task', 'subject', 'description', 'retention_count'];
const VERSION_COLUMNS = ['region', 'cost_per_1k', 'eval_score', 'slo_ok', 'pinned', 'artifact_uri', 'archive_uri', 'size_bytes', 'model_type', 'framework', 'archived_at'];
/** Usage statistics (avg_latency_ms, success_rate, last_used_at, usage_samples) are not configuration: they never produce an event. */
const BINDING_COLUMNS = ['provider', 'provider_model_id', 'status', 'config', 'endpoint_url'];

/**
 * The gateway's needs: aliases (production, staging, …) pointing at live versions; usage counts on
 * bindings; and a change feed — an event row written by triggers in the same transaction as every
 * change, so no code path can forget one and a rolled-back change leaves none.
 */
export class GatewayAliasesUsageEvents1795699000000 implements MigrationInterface {
  name = 'GatewayAliasesUsageEvents1795699000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // Aliases point at a version of their own model: a composite foreign key says so.
    await queryRunner.query(`ALTER TABLE "model_versions" ADD CONSTRAINT "uq_model_versions_id_model" UNIQUE ("id", "model_id")`);
    await queryRunner.query(`
      CREATE TABLE "model_aliases" (
        "model_id" bigint NOT NULL,
        "alias" character varying(64) NOT NULL,
        "version_id" bigint NOT NULL,
        "created_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "pk_model_aliases" PRIMARY KEY ("model_id", "alias"),
        CONSTRAINT "ck_model_aliases_alias" CHECK (alias ~ '^[a-z0-9][a-z0-9_-]{0,63}$' AND alias <> 'latest'),
        CONSTRAINT "fk_model_aliases_model" FOREIGN KEY ("model_id") REFERENCES "models"("id") ON DELETE CASCADE,
        -- NO ACTION: an aliased version cannot be deleted on its own (deleting the model takes both).
        CONSTRAINT "fk_model_aliases_version" FOREIGN KEY ("version_id", "model_id") REFERENCES "model_versions"("id", "model_id")
      )`);
    await queryRunner.query(`CREATE INDEX "ix_model_aliases_version" ON "model_aliases" ("version_id")`);

    await queryRunner.query(`ALTER TABLE "provider_bindings" ADD "usage_samples" bigint NOT NULL DEFAULT 0`);

    await queryRunner.query(`
      CREATE TABLE "events" (
        "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
        "tx_id" xid8 NOT NULL DEFAULT pg_current_xact_id(),
        "occurred_at" TIMESTAMP(3) WITH TIME ZONE NOT NULL DEFAULT now(),
        "type" character varying(32) NOT NULL,
        "model_id" bigint,
        "version_id" bigint,
        "binding_id" bigint,
        "alias" character varying(64),
        "data" jsonb NOT NULL DEFAULT '{}',
        CONSTRAINT "pk_events" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(`CREATE INDEX "ix_events_feed" ON "events" ("tx_id", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_events_occurred" ON "events" ("occurred_at")`);
    // How far pruning has gone: a cursor older than this may have missed events.
    await queryRunner.query(`
      CREATE TABLE "event_feed_state" (
        "singleton" boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        "pruned_through_tx" xid8 NOT NULL,
        "pruned_through_id" bigint NOT NULL
      )`);

    await queryRunner.query(`
      CREATE FUNCTION registry_events_models() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO events (type, model_id) SELECT 'model.created', n.id FROM new_rows n ORDER BY n.id;
        ELSIF TG_OP = 'UPDATE' THEN
          INSERT INTO events (type, model_id, data)
          SELECT 'model.updated', n.id, jsonb_build_object('changed', c.fields)
            FROM new_rows n JOIN old_rows o ON o.id = n.id, LATERAL (SELECT ${changed(MODEL_COLUMNS)} AS fields) c
           WHERE c.fields <> '[]'::jsonb ORDER BY n.id;
        ELSE
          INSERT INTO events (type, model_id) SELECT 'model.deleted', o.id FROM old_rows o ORDER BY o.id;
        END IF;
        RETURN NULL;
      END $fn$`);
    await queryRunner.query(`
      CREATE FUNCTION registry_events_versions() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO events (type, model_id, version_id) SELECT 'version.created', n.model_id, n.id FROM new_rows n ORDER BY n.id;
        ELSIF TG_OP = 'UPDATE' THEN
          INSERT INTO events (type, model_id, version_id, data)
          SELECT CASE WHEN o.archived_at IS NULL AND n.archived_at IS NOT NULL THEN 'version.archived'
                      WHEN o.archived_at IS NOT NULL AND n.archived_at IS NULL THEN 'version.restored'
                      ELSE 'version.updated' END,
                 n.model_id, n.id, jsonb_build_object('changed', c.fields)
            FROM new_rows n JOIN old_rows o ON o.id = n.id, LATERAL (SELECT ${changed(VERSION_COLUMNS)} AS fields) c
           WHERE c.fields <> '[]'::jsonb ORDER BY n.id;
        ELSE
          -- Retention marks its purge transactions, so a purge is told apart from a delete.
          INSERT INTO events (type, model_id, version_id)
          SELECT CASE WHEN current_setting('model_registry.event_reason', true) = 'purge' THEN 'version.purged' ELSE 'version.deleted' END, o.model_id, o.id
            FROM old_rows o ORDER BY o.id;
        END IF;
        RETURN NULL;
      END $fn$`);
    await queryRunner.query(`
      CREATE FUNCTION registry_events_bindings() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO events (type, model_id, version_id, binding_id)
          SELECT 'binding.created', v.model_id, n.version_id, n.id FROM new_rows n LEFT JOIN model_versions v ON v.id = n.version_id ORDER BY n.id;
        ELSIF TG_OP = 'UPDATE' THEN
          INSERT INTO events (type, model_id, version_id, binding_id, data)
          SELECT 'binding.updated', v.model_id, n.version_id, n.id, jsonb_build_object('changed', c.fields)
            FROM new_rows n JOIN old_rows o ON o.id = n.id LEFT JOIN model_versions v ON v.id = n.version_id,
                 LATERAL (SELECT ${changed(BINDING_COLUMNS)} AS fields) c
           WHERE c.fields <> '[]'::jsonb ORDER BY n.id;
        ELSE
          INSERT INTO events (type, model_id, version_id, binding_id)
          SELECT 'binding.deleted', v.model_id, o.version_id, o.id FROM old_rows o LEFT JOIN model_versions v ON v.id = o.version_id ORDER BY o.id;
        END IF;
        RETURN NULL;
      END $fn$`);
    await queryRunner.query(`
      CREATE FUNCTION registry_events_aliases() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO events (type, model_id, version_id, alias)
          SELECT 'alias.set', n.model_id, n.version_id, n.alias FROM new_rows n ORDER BY n.model_id, n.alias;
        ELSIF TG_OP = 'UPDATE' THEN
          INSERT INTO events (type, model_id, version_id, alias, data)
          SELECT 'alias.set', n.model_id, n.version_id, n.alias, jsonb_build_object('previous_version_id', o.version_id)
            FROM new_rows n JOIN old_rows o ON o.model_id = n.model_id AND o.alias = n.alias
           WHERE o.version_id <> n.version_id ORDER BY n.model_id, n.alias;
        ELSE
          INSERT INTO events (type, model_id, version_id, alias)
          SELECT 'alias.deleted', o.model_id, o.version_id, o.alias FROM old_rows o ORDER BY o.model_id, o.alias;
        END IF;
        RETURN NULL;
      END $fn$`);
    for (const [table, fn] of [
      ['models', 'registry_events_models'],
      ['model_versions', 'registry_events_versions'],
      ['provider_bindings', 'registry_events_bindings'],
      ['model_aliases', 'registry_events_aliases'],
    ]) {
      await queryRunner.query(`CREATE TRIGGER ${table}_events_insert AFTER INSERT ON ${table} REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`);
      await queryRunner.query(
        `CREATE TRIGGER ${table}_events_update AFTER UPDATE ON ${table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
      );
      await queryRunner.query(`CREATE TRIGGER ${table}_events_delete AFTER DELETE ON ${table} REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`);
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['models', 'model_versions', 'provider_bindings', 'model_aliases']) {
      for (const op of ['insert', 'update', 'delete']) await queryRunner.query(`DROP TRIGGER IF EXISTS ${table}_events_${op} ON ${table}`);
    }
    await queryRunner.query(`DROP FUNCTION registry_events_models(), registry_events_versions(), registry_events_bindings(), registry_events_aliases()`);
    await queryRunner.query(`DROP TABLE "event_feed_state"`);
    await queryRunner.query(`DROP TABLE "events"`);
    await queryRunner.query(`ALTER TABLE "provider_bindings" DROP COLUMN "usage_samples"`);
    await queryRunner.query(`DROP TABLE "model_aliases"`);
    await queryRunner.query(`ALTER TABLE "model_versions" DROP CONSTRAINT "uq_model_versions_id_model"`);
  }
}
