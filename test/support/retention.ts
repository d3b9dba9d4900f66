import type { Client } from 'pg';
import type TestAgent from 'supertest/lib/agent';
import { create, makeModel, makeVersion } from './factories';

/** A model with `count` versions created one millisecond apart (oldest first), via the API. */
export async function modelWithVersions(http: TestAgent, db: Client, count: number, versionOverrides: (i: number) => Record<string, unknown> = () => ({})) {
  const model = await create(http, '/models', makeModel());
  const versions: Record<string, any>[] = [];
  for (let i = 0; i < count; i++) {
    versions.push(await create(http, '/versions', makeVersion(model.id, { version: `1.${i}.0`, size_bytes: 1000 + i, ...versionOverrides(i) })));
  }
  // Distinct, ordered creation times independent of how fast the API answered.
  await db.query(
    `UPDATE model_versions v SET created_at = '2026-01-01T00:00:00Z'::timestamptz + (o.n || ' minutes')::interval
       FROM unnest($1::bigint[]) WITH ORDINALITY AS o(id, n) WHERE v.id = o.id`,
    [versions.map((v) => v.id)],
  );
  return { model, versions };
}

export async function archivedIds(db: Client, modelId: number): Promise<number[]> {
  const { rows } = await db.query('SELECT id FROM model_versions WHERE model_id = $1 AND archived_at IS NOT NULL ORDER BY id', [modelId]);
  return rows.map((row: { id: string | number }) => Number(row.id));
}

/** A model whose versions (oldest first, a minute apart) have these artifact URIs, registered via the API. */
export async function modelWithArtifacts(http: TestAgent, db: Client, artifacts: (string | null)[], options: { start?: string } = {}) {
  const model = await create(http, '/models', makeModel());
  const versions: Record<string, any>[] = [];
  for (const [i, artifact_uri] of artifacts.entries()) {
    versions.push(await create(http, '/versions', makeVersion(model.id, { version: `2.${i}.0`, artifact_uri, size_bytes: 10 })));
  }
  await db.query(
    `UPDATE model_versions v SET created_at = $2::timestamptz + (o.n || ' minutes')::interval
       FROM unnest($1::bigint[]) WITH ORDINALITY AS o(id, n) WHERE v.id = o.id`,
    [versions.map((v) => v.id), options.start ?? '2026-02-01T00:00:00Z'],
  );
  return { model, versions };
}
