import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Counted expressions per table: [metric, key expression, value expression]. Sums over `changes` (sign ±1). */
const VERSION_DELTAS = [
  ['versions.total', `''`, 'sign'],
  ['versions.live', `''`, 'sign * (archived_at IS NULL)::int'],
  ['versions.archived', `''`, 'sign * (archived_at IS NOT NULL)::int'],
  ['versions.archived.bytes', `''`, 'sign * CASE WHEN archived_at IS NOT NULL THEN COALESCE(size_bytes, 0) ELSE 0 END'],
  ['versions.by_framework', `COALESCE(framework, '')`, 'sign'],
  ['versions.live.slo_ok', `''`, 'sign * (archived_at IS NULL AND slo_ok)::int'],
  ['versions.live.eval.count', `''`, 'sign * (archived_at IS NULL AND eval_score IS NOT NULL)::int'],
  ['versions.live.eval.sum', `''`, 'sign * CASE WHEN archived_at IS NULL THEN COALESCE(eval_score::numeric, 0) ELSE 0 END'],
  ['versions.live.cost.count', `''`, 'sign * (archived_at IS NULL AND cost_per_1k IS NOT NULL)::int'],
  ['versions.live.cost.sum', `''`, 'sign * CASE WHEN archived_at IS NULL THEN COALESCE(cost_per_1k, 0) ELSE 0 END'],
];
const MODEL_DELTAS = [
  ['models.total', `''`, 'sign'],
  ['models.by_task', 'task', 'sign'],
];
const BINDING_DELTAS = [
  ['bindings.total', `''`, 'sign'],
  ['bindings.by_provider', 'provider', 'sign'],
  ['bindings.by_status', 'status', 'sign'],
];

/** SELECT metric, key, value … FROM changes, one row per metric and key. */
function deltasSelect(deltas: string[][]): string {
  return deltas.map(([metric, key, value]) => `SELECT '${metric}'::text AS metric, (${key})::text AS key, sum(${value})::numeric AS value FROM changes GROUP BY 2`).join(' UNION ALL ');
}

/**
 * A statement-level trigger function: folds the rows a statement inserted, updated or deleted (its
 * transition tables) into per-metric deltas, added to one of 16 shards chosen by backend, so
 * concurrent writers rarely touch the same counter row.
 */
function counterFunction(name: string, deltas: string[][]): string {
  return `
    CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $fn$
    DECLARE
      changes text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT 1 AS sign, * FROM new_rows'
        WHEN 'DELETE' THEN 'SELECT -1 AS sign, * FROM old_rows'
        ELSE 'SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1 AS sign, * FROM old_rows' END;
    BEGIN
      EXECUTE format(
        'WITH changes AS (%s), deltas AS (${deltasSelect(deltas).replace(/'/g, "''")})
         INSERT INTO registry_counters (metric, key, shard, value)
         SELECT metric, key, $1, value FROM deltas WHERE value <> 0 ORDER BY metric, key
         ON CONFLICT (metric, key, shard) DO UPDATE SET value = registry_counters.value + EXCLUDED.value',
        changes) USING (pg_backend_pid() % 16)::smallint;
      RETURN NULL;
    END $fn$`;
}

function triggers(table: string, fn: string): string[] {
  return [
    `CREATE TRIGGER ${table}_count_insert AFTER INSERT ON ${table} REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
    `CREATE TRIGGER ${table}_count_update AFTER UPDATE ON ${table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
    `CREATE TRIGGER ${table}_count_delete AFTER DELETE ON ${table} REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
  ];
}

/**
 * Registry statistics kept incrementally, so GET /stats does not scan a million versions: counts and
 * sums in registry_counters (maintained by statement-level triggers, exact under concurrency because
 * they are part of each writing transaction), minimums and maximums from partial indexes.
 */
export class RegistryCounters1795698000000 implements MigrationInterface {
  name = 'RegistryCounters1795698000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "registry_counters" (
        "metric" character varying(64) NOT NULL,
        "key" character varying(256) NOT NULL,
        "shard" smallint NOT NULL,
        "value" numeric NOT NULL,
        CONSTRAINT "pk_registry_counters" PRIMARY KEY ("metric", "key", "shard")
      )`);
    await queryRunner.query(counterFunction('registry_count_versions', VERSION_DELTAS));
    await queryRunner.query(counterFunction('registry_count_models', MODEL_DELTAS));
    await queryRunner.query(counterFunction('registry_count_bindings', BINDING_DELTAS));
    for (const sql of [...triggers('model_versions', 'registry_count_versions'), ...triggers('models', 'registry_count_models'), ...triggers('provider_bindings', 'registry_count_bindings')]) {
      await queryRunner.query(sql);
    }
    // Rows that exist already (the triggers are in place, and this runs in the same transaction).
    for (const [table, deltas] of [
      ['model_versions', VERSION_DELTAS],
      ['models', MODEL_DELTAS],
      ['provider_bindings', BINDING_DELTAS],
    ] as const) {
      await queryRunner.query(
        `WITH changes AS (SELECT 1 AS sign, * FROM ${table}), deltas AS (${deltasSelect(deltas as unknown as string[][])})
         INSERT INTO registry_counters (metric, key, shard, value) SELECT metric, key, 0, value FROM deltas WHERE value <> 0`,
      );
    }
    // Minimum and maximum over live versions are index lookups.
    await queryRunner.query(`CREATE INDEX "ix_model_versions_live_eval" ON "model_versions" ("eval_score") WHERE archived_at IS NULL AND eval_score IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX "ix_model_versions_live_cost" ON "model_versions" ("cost_per_1k") WHERE archived_at IS NULL AND cost_per_1k IS NOT NULL`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_model_versions_live_cost"`);
    await queryRunner.query(`DROP INDEX "ix_model_versions_live_eval"`);
    for (const table of ['model_versions', 'models', 'provider_bindings']) {
      for (const op of ['insert', 'update', 'delete']) await queryRunner.query(`DROP TRIGGER ${table}_count_${op} ON ${table}`);
    }
    await queryRunner.query(`DROP FUNCTION registry_count_versions(), registry_count_models(), registry_count_bindings()`);
    await queryRunner.query(`DROP TABLE "registry_counters"`);
  }
}
