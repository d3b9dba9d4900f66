import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A field of the change feed's `changed` list: a column, or an API field made of several columns. */
type ChangedField = string | { field: string; columns: string[] };

/**
 * The names of the listed fields that differ between `o` and `n` (one row's old and new versions), as
 * a jsonb array. Explicit comparisons: converting rows to jsonb made bulk updates (retention archiving
 * 170,000 versions) three times slower.
 */
const changed = (fields: ChangedField[]) =>
  `to_jsonb(array_remove(ARRAY[${fields
    .map((f) =>
      typeof f === 'string'
        ? `CASE WHEN n.${f} IS DISTINCT FROM o.${f} THEN '${f}' END`
        : `CASE WHEN (${f.columns.map((c) => `n.${c}`).join(', ')}) IS DISTINCT FROM (${f.columns.map((c) => `o.${c}`).join(', ')}) THEN '${f.field}' END`,
    )
    .join(', ')}]::text[], NULL))`;

const MODEL_COLUMNS: ChangedField[] = ['name', 'task', 'subject', 'description', 'retention_count', 'labels'];
const VERSION_COLUMNS: ChangedField[] = [
  'region', 'cost_per_1k', 'eval_score', 'slo_ok', 'pinned', 'artifact_uri', 'archive_uri', 'size_bytes', 'model_type', 'framework', 'archived_at',
  'labels', 'source', { field: 'metadata', columns: ['metadata_digest'] },
];
/** Usage statistics (avg_latency_ms, success_rate, last_used_at, usage_samples) are not configuration: they never produce an event. */
const BINDING_COLUMNS: ChangedField[] = [
  'provider', 'provider_model_id', 'status', 'config', 'endpoint_url',
  'labels', { field: 'pricing', columns: ['input_per_1m_tokens', 'output_per_1m_tokens', 'currency'] }, 'context_window', 'max_output_tokens', 'capabilities',
];

/** SHA-256 of `{}`: the digest of the default metadata. */
const EMPTY_METADATA_DIGEST = '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

export const BINDING_CAPABILITIES = ['chat', 'completion', 'embeddings', 'tools', 'vision', 'json_mode', 'streaming', 'audio', 'reasoning'];

/**
 * Labels (Kubernetes rules, GIN-indexed for selectors) on models, versions and bindings; lineage
 * (`source`) and a model card (`metadata`) on versions; pricing, context window, output limit and
 * capabilities on bindings. The change feed reports the new fields.
 *
 * Label rules and the metadata size are checked by BEFORE triggers that fire only when a statement
 * sets the column (`UPDATE OF labels`): a CHECK constraint is evaluated on every update of a row, and
 * this one (a regular expression per label) made retention's bulk archiving of 200,000 labelled
 * versions about twice as slow. Their errors carry the constraint names of src/database/constraints.ts.
 * The metadata trigger also keeps `metadata_digest`, which the change feed compares instead of the
 * metadata itself: comparing a TOASTed model card on every archived row made bulk archiving 3x slower.
 */
export class LabelsLineageCatalog1795703000000 implements MigrationInterface {
  name = 'LabelsLineageCatalog1795703000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION registry_labels_valid(labels jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
        SELECT CASE
          WHEN jsonb_typeof(labels) IS DISTINCT FROM 'object' THEN false
          WHEN labels = '{}'::jsonb THEN true
          ELSE (SELECT count(*) <= 64 AND bool_and(
                         jsonb_typeof(e.value) = 'string'
                         AND e.key ~ '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$'
                         AND position('/' in e.key) <= 254
                         AND length(e.key) - position('/' in e.key) <= 63
                         AND length(e.value #>> '{}') <= 63
                         AND (e.value #>> '{}') ~ '^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$')
                  FROM jsonb_each(labels) e)
        END
      $fn$`);
    await queryRunner.query(`
      CREATE FUNCTION registry_check_labels() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF NOT registry_labels_valid(NEW.labels) THEN
          RAISE EXCEPTION 'labels break the label rules'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_' || TG_TABLE_NAME || '_labels', TABLE = TG_TABLE_NAME, COLUMN = 'labels';
        END IF;
        RETURN NEW;
      END $fn$`);
    // The semantics of src/common/labels/selector.ts, for queries whose text must not depend on the
    // selector: selector is [{"key", "op": in|notin|exists|not_exists, "values"}], all must hold.
    await queryRunner.query(`
      CREATE FUNCTION registry_labels_match(labels jsonb, selector jsonb) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
        SELECT NOT EXISTS (
          SELECT 1 FROM jsonb_array_elements(selector) r
           WHERE NOT CASE r.value->>'op'
             WHEN 'in' THEN COALESCE((r.value->'values') ? (labels->>(r.value->>'key')), false)
             WHEN 'notin' THEN NOT COALESCE((r.value->'values') ? (labels->>(r.value->>'key')), false)
             WHEN 'exists' THEN jsonb_exists(labels, r.value->>'key')
             WHEN 'not_exists' THEN NOT jsonb_exists(labels, r.value->>'key')
             ELSE false END)
      $fn$`);

    for (const table of ['models', 'model_versions', 'provider_bindings']) {
      await queryRunner.query(`ALTER TABLE "${table}" ADD "labels" jsonb NOT NULL DEFAULT '{}'`);
      await queryRunner.query(`CREATE INDEX "ix_${table}_labels" ON "${table}" USING gin ("labels" jsonb_path_ops)`);
      await queryRunner.query(`CREATE TRIGGER ${table}_labels_valid BEFORE INSERT OR UPDATE OF labels ON ${table} FOR EACH ROW EXECUTE FUNCTION registry_check_labels()`);
    }

    await queryRunner.query(`ALTER TABLE "model_versions" ADD "source" character varying(2048)`);
    await queryRunner.query(`ALTER TABLE "model_versions" ADD "metadata" jsonb NOT NULL DEFAULT '{}'`);
    await queryRunner.query(`ALTER TABLE "model_versions" ADD "metadata_digest" bytea NOT NULL DEFAULT '\\x${EMPTY_METADATA_DIGEST}'::bytea`);
    // The API allows 64 KiB of compact JSON; jsonb's text form adds spaces, hence the margin.
    await queryRunner.query(`
      CREATE FUNCTION registry_check_version_metadata() RETURNS trigger LANGUAGE plpgsql AS $fn$
      DECLARE
        text_form text := NEW.metadata::text;
      BEGIN
        IF jsonb_typeof(NEW.metadata) IS DISTINCT FROM 'object' OR octet_length(text_form) > 131072 THEN
          RAISE EXCEPTION 'metadata is not an object or is too large'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_model_versions_metadata', TABLE = TG_TABLE_NAME, COLUMN = 'metadata';
        END IF;
        NEW.metadata_digest := sha256(convert_to(text_form, 'UTF8'));
        RETURN NEW;
      END $fn$`);
    await queryRunner.query(
      `CREATE TRIGGER model_versions_metadata_valid BEFORE INSERT OR UPDATE OF metadata ON model_versions FOR EACH ROW EXECUTE FUNCTION registry_check_version_metadata()`,
    );

    await queryRunner.query(`ALTER TABLE "provider_bindings" ADD "input_per_1m_tokens" numeric(20,10)`);
    await queryRunner.query(`ALTER TABLE "provider_bindings" ADD "output_per_1m_tokens" numeric(20,10)`);
    await queryRunner.query(`ALTER TABLE "provider_bindings" ADD "currency" character varying(3)`);
    await queryRunner.query(`ALTER TABLE "provider_bindings" ADD "context_window" integer`);
    await queryRunner.query(`ALTER TABLE "provider_bindings" ADD "max_output_tokens" integer`);
    await queryRunner.query(`ALTER TABLE "provider_bindings" ADD "capabilities" text array NOT NULL DEFAULT '{}'`);
    // All three pricing columns or none (num_nonnulls: a NULL inside an AND would let a CHECK pass).
    await queryRunner.query(`
      ALTER TABLE "provider_bindings" ADD CONSTRAINT "ck_provider_bindings_pricing" CHECK (
        num_nonnulls(input_per_1m_tokens, output_per_1m_tokens, currency) = 0
        OR (num_nonnulls(input_per_1m_tokens, output_per_1m_tokens, currency) = 3
            AND input_per_1m_tokens >= 0 AND output_per_1m_tokens >= 0 AND currency ~ '^[A-Z]{3}$'))`);
    await queryRunner.query(`ALTER TABLE "provider_bindings" ADD CONSTRAINT "ck_provider_bindings_context_window" CHECK (context_window >= 1)`);
    await queryRunner.query(`ALTER TABLE "provider_bindings" ADD CONSTRAINT "ck_provider_bindings_max_output_tokens" CHECK (max_output_tokens >= 1)`);
    await queryRunner.query(
      `ALTER TABLE "provider_bindings" ADD CONSTRAINT "ck_provider_bindings_capabilities" CHECK (capabilities <@ ARRAY[${BINDING_CAPABILITIES.map((c) => `'${c}'`).join(', ')}]::text[])`,
    );

    await this.replaceEventFunctions(queryRunner, MODEL_COLUMNS, VERSION_COLUMNS, BINDING_COLUMNS);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await this.replaceEventFunctions(
      queryRunner,
      MODEL_COLUMNS.filter((c) => c !== 'labels'),
      VERSION_COLUMNS.slice(0, 11),
      BINDING_COLUMNS.slice(0, 5),
    );
    await queryRunner.query(`DROP TRIGGER model_versions_metadata_valid ON model_versions`);
    await queryRunner.query(`DROP FUNCTION registry_check_version_metadata()`);
    for (const table of ['models', 'model_versions', 'provider_bindings']) {
      await queryRunner.query(`DROP TRIGGER ${table}_labels_valid ON ${table}`);
      await queryRunner.query(`DROP INDEX "ix_${table}_labels"`);
      await queryRunner.query(`ALTER TABLE "${table}" DROP COLUMN "labels"`);
    }
    for (const constraint of ['pricing', 'context_window', 'max_output_tokens', 'capabilities']) {
      await queryRunner.query(`ALTER TABLE "provider_bindings" DROP CONSTRAINT "ck_provider_bindings_${constraint}"`);
    }
    for (const column of ['input_per_1m_tokens', 'output_per_1m_tokens', 'currency', 'context_window', 'max_output_tokens', 'capabilities']) {
      await queryRunner.query(`ALTER TABLE "provider_bindings" DROP COLUMN "${column}"`);
    }
    await queryRunner.query(`ALTER TABLE "model_versions" DROP COLUMN "metadata_digest"`);
    await queryRunner.query(`ALTER TABLE "model_versions" DROP COLUMN "metadata"`);
    await queryRunner.query(`ALTER TABLE "model_versions" DROP COLUMN "source"`);
    await queryRunner.query(`DROP FUNCTION registry_labels_match(jsonb, jsonb), registry_check_labels(), registry_labels_valid(jsonb)`);
  }

  /** The change-feed trigger functions of migration 1795699000000, with the given field lists. */
  private async replaceEventFunctions(queryRunner: QueryRunner, models: ChangedField[], versions: ChangedField[], bindings: ChangedField[]): Promise<void> {
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION registry_events_models() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO events (type, model_id) SELECT 'model.created', n.id FROM new_rows n ORDER BY n.id;
        ELSIF TG_OP = 'UPDATE' THEN
          INSERT INTO events (type, model_id, data)
          SELECT 'model.updated', n.id, jsonb_build_object('changed', c.fields)
            FROM new_rows n JOIN old_rows o ON o.id = n.id, LATERAL (SELECT ${changed(models)} AS fields) c
           WHERE c.fields <> '[]'::jsonb ORDER BY n.id;
        ELSE
          INSERT INTO events (type, model_id) SELECT 'model.deleted', o.id FROM old_rows o ORDER BY o.id;
        END IF;
        RETURN NULL;
      END $fn$`);
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION registry_events_versions() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO events (type, model_id, version_id) SELECT 'version.created', n.model_id, n.id FROM new_rows n ORDER BY n.id;
        ELSIF TG_OP = 'UPDATE' THEN
          INSERT INTO events (type, model_id, version_id, data)
          SELECT CASE WHEN o.archived_at IS NULL AND n.archived_at IS NOT NULL THEN 'version.archived'
                      WHEN o.archived_at IS NOT NULL AND n.archived_at IS NULL THEN 'version.restored'
                      ELSE 'version.updated' END,
                 n.model_id, n.id, jsonb_build_object('changed', c.fields)
            FROM new_rows n JOIN old_rows o ON o.id = n.id, LATERAL (SELECT ${changed(versions)} AS fields) c
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
      CREATE OR REPLACE FUNCTION registry_events_bindings() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO events (type, model_id, version_id, binding_id)
          SELECT 'binding.created', v.model_id, n.version_id, n.id FROM new_rows n LEFT JOIN model_versions v ON v.id = n.version_id ORDER BY n.id;
        ELSIF TG_OP = 'UPDATE' THEN
          INSERT INTO events (type, model_id, version_id, binding_id, data)
          SELECT 'binding.updated', v.model_id, n.version_id, n.id, jsonb_build_object('changed', c.fields)
            FROM new_rows n JOIN old_rows o ON o.id = n.id LEFT JOIN model_versions v ON v.id = n.version_id,
                 LATERAL (SELECT ${changed(bindings)} AS fields) c
           WHERE c.fields <> '[]'::jsonb ORDER BY n.id;
        ELSE
          INSERT INTO events (type, model_id, version_id, binding_id)
          SELECT 'binding.deleted', v.model_id, o.version_id, o.id FROM old_rows o LEFT JOIN model_versions v ON v.id = o.version_id ORDER BY o.id;
        END IF;
        RETURN NULL;
      END $fn$`);
  }
}
