import type { Client } from 'pg';

export interface CatalogSize {
  models: number;
  versionsPerModel: number;
  bindingsPerVersion: number;
}

/** Versions (and so artifact locks) per INSERT statement while seeding. */
const VERSIONS_PER_STATEMENT = 2_000;

async function insertVersions(client: Client, versionsPerModel: number, artifactDir: string | undefined, from: number, to: number): Promise<void> {
  await client.query(
    `INSERT INTO model_versions (model_id, hash, version, version_sort_key, region, cost_per_1k, eval_score, slo_ok,
                                 artifact_uri, artifact_key, size_bytes, model_type, framework, created_at, labels)
     SELECT m.id, md5(m.id || ':' || n) || md5(n || ':' || m.id), '1.' || n || '.0',
            lpad('1', 16, '0') || '.' || lpad(n::text, 16, '0') || '.' || lpad('0', 16, '0') || '~',
            (ARRAY['us-east-1','eu-west-1','ap-south-1'])[1 + n % 3], (1 + n % 50) / 1000.0, 0.5 + (n % 50) / 100.0, n % 10 <> 0,
            a.uri, a.uri, -- these URIs are already in normalised form (their artifact_key)
            1000000 + n, 'llm', (ARRAY['pytorch','onnx'])[1 + n % 2], timestamptz '2026-01-01' + (m.id || ' seconds')::interval + (n || ' hours')::interval,
            jsonb_build_object('stage', CASE WHEN n % 5 = 0 THEN 'beta' ELSE 'ga' END, 'team', 't' || (m.id % 20))
       FROM models m CROSS JOIN generate_series(1, $1::int) n
            CROSS JOIN LATERAL (SELECT CASE WHEN $2::text IS NULL THEN 's3://bench-models/' || m.name || '/' || n || '/model.bin'
                                            ELSE 'file://' || $2 || '/m' || m.id || '/v' || n || '.bin' END AS uri) a
      WHERE m.name LIKE 'bench-model-%' AND substring(m.name from 13)::int BETWEEN $3 AND $4`,
    [versionsPerModel, artifactDir ?? null, from, to],
  );
}

/**
 * Seeds a catalog with set-based SQL (the counters and events triggers run as they do in production).
 * Versions have SemVer strings and sort keys as the service writes them; every model gets a
 * production alias on its newest version. With `artifactDir`, artifact URIs are file:// paths there.
 * Versions and bindings carry a few labels, and bindings prices and capabilities, as in a catalog a
 * gateway is configured from.
 */
export async function seedCatalog(client: Client, size: CatalogSize, options: { artifactDir?: string; startModel?: number } = {}): Promise<void> {
  const start = options.startModel ?? 1;
  const end = start + size.models - 1;
  await client.query(
    `INSERT INTO models (name, task, subject)
     SELECT 'bench-model-' || g, (ARRAY['generation','embedding','rerank','moderation'])[1 + g % 4], 's' || (g % 20)
       FROM generate_series($1::int, $2::int) g`,
    [start, end],
  );
  // Each inserted version takes a transaction-level advisory lock on its artifact (the
  // model_versions_lock_artifact trigger), so one statement for every version would overflow the
  // lock table (max_locks_per_transaction × max_connections): the versions go in by chunks of models.
  const chunk = Math.max(1, Math.floor(VERSIONS_PER_STATEMENT / Math.max(1, size.versionsPerModel)));
  for (let from = start; from <= end; from += chunk) {
    await insertVersions(client, size.versionsPerModel, options.artifactDir, from, Math.min(end, from + chunk - 1));
  }
  if (size.bindingsPerVersion > 0) {
    await client.query(
      `INSERT INTO provider_bindings (version_id, provider, provider_model_id, status, config, avg_latency_ms, success_rate,
                                      labels, input_per_1m_tokens, output_per_1m_tokens, currency, context_window, max_output_tokens, capabilities)
       SELECT v.id, (ARRAY['openai','vertex','bedrock','anthropic'])[b], 'pm-' || v.id || '-' || b, 'active', '{"temperature": 0.7}',
              100 + (v.id * 7 + b * 13) % 400, 0.95 + ((v.id + b) % 5) / 100.0,
              jsonb_build_object('region', (ARRAY['us','eu'])[1 + b % 2]), 1 + b, 4 + b, 'USD', 128000, 16384,
              CASE WHEN b % 2 = 0 THEN '{chat,tools,streaming}'::text[] ELSE '{chat,streaming}'::text[] END
         FROM model_versions v JOIN models m ON m.id = v.model_id CROSS JOIN generate_series(1, $1::int) b
        WHERE substring(m.name from 13)::int BETWEEN $2 AND $3`,
      [size.bindingsPerVersion, start, end],
    );
  }
  await client.query(
    `INSERT INTO model_aliases (model_id, alias, version_id)
     SELECT DISTINCT ON (v.model_id) v.model_id, 'production', v.id FROM model_versions v JOIN models m ON m.id = v.model_id
      WHERE substring(m.name from 13)::int BETWEEN $1 AND $2
      ORDER BY v.model_id, v.created_at DESC`,
    [start, end],
  );
  // VACUUM as well as ANALYZE: a fresh bulk load leaves every tuple's hint bits unset and its pages out
  // of the visibility map, so the first side to read them would pay the writes, and autovacuum would
  // start on the new tables in the middle of some measurement. Both sides measure a settled database.
  await client.query('VACUUM (ANALYZE)');
}
