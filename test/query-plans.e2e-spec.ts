import { BindingsRepository } from '../src/bindings/bindings.repository';
import { BINDING_SORTS } from '../src/bindings/dto/list-bindings-query.dto';
import { MODEL_SORTS } from '../src/models/dto/list-models-query.dto';
import { ModelsRepository } from '../src/models/models.repository';
import { VERSION_SORTS } from '../src/versions/dto/list-versions-query.dto';
import { VersionsRepository } from '../src/versions/versions.repository';
import type { ListQuery } from '../src/common/pagination/keyset';
import { createTestApp, type TestApp } from './support/test-app';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/**
 * Every list filter and sort order is served by an index: on a catalog large enough for the planner
 * to care (2,000 models, 20,000 versions, 40,000 bindings), no list query scans a whole table.
 */
describe('list query plans', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await createTestApp('query-plans');
    await sut.db.query(`
      INSERT INTO models (name, task, subject)
        SELECT 'm-' || g, (ARRAY['generation','embedding','rerank','moderation'])[1 + g % 4], 's' || (g % 50) FROM generate_series(1, 2000) g;
      INSERT INTO model_versions (model_id, hash, version, version_sort_key, region, cost_per_1k, eval_score, slo_ok, model_type, framework, archived_at, created_at)
        SELECT m.id, md5(m.id || '-' || n) || md5(n || '-' || m.id), '1.0.' || n, lpad('1', 16, '0') || '.' || lpad('0', 16, '0') || '.' || lpad(n::text, 16, '0') || '~',
               (ARRAY['us-east-1','eu-west-1','ap-south-1','us-west-2','eu-central-1'])[1 + (m.id + n) % 5],
               CASE WHEN n % 7 = 0 THEN NULL ELSE (n % 13) / 100.0 END, CASE WHEN n % 6 = 0 THEN NULL ELSE (n % 10) / 10.0 END,
               n % 9 <> 0, (ARRAY['llm','transformer','diffusion','encoder'])[1 + n % 4], (ARRAY['pytorch','onnx','tensorflow'])[1 + n % 3],
               CASE WHEN n <= 3 THEN now() - interval '1 day' ELSE NULL END, now() - (n || ' hours')::interval
          FROM models m CROSS JOIN generate_series(1, 10) n;
      INSERT INTO provider_bindings (version_id, provider, provider_model_id, status, avg_latency_ms, success_rate)
        SELECT v.id, p, 'pm-' || v.id, (ARRAY['active','inactive','deprecated'])[1 + v.id % 3], (v.id % 500)::float, (v.id % 100) / 100.0
          FROM model_versions v CROSS JOIN unnest(ARRAY['openai','vertex']) p;
      ANALYZE;
    `);
  }, 120_000);
  afterAll(() => sut.close());

  async function expectIndexed(label: string, query: ListQuery) {
    const [{ 'QUERY PLAN': plan }] = (await sut.db.query(`EXPLAIN (FORMAT JSON) ${query.sql}`, query.params)).rows as { 'QUERY PLAN': { Plan: PlanNode }[] }[];
    const all = nodes(plan[0].Plan);
    // The catalog tables; tiny side tables (aliases) may be read whole.
    const seqScans = all.filter((node) => node['Node Type'] === 'Seq Scan' && ['models', 'model_versions', 'provider_bindings'].includes(node['Relation Name']!)).map((node) => node['Relation Name']);
    const indexes = all.filter((node) => node['Index Name']).map((node) => node['Index Name']);
    if (process.env.SHOW_PLANS) console.log(label, indexes.join(','));
    expect({ label, seqScans, usesIndex: indexes.length > 0 }).toEqual({ label, seqScans: [], usesIndex: true });
  }


  it('models: every sort, with and without each filter, first and later pages', async () => {
    const repository = sut.app.get(ModelsRepository);
    for (const sort of MODEL_SORTS) {
      await expectIndexed(`models ${sort}`, repository.buildListQuery({}, sort, 20, undefined));
      const page = await repository.listPage({}, sort, 20, undefined, (row) => row);
      await expectIndexed(`models ${sort} page 2`, repository.buildListQuery({}, sort, 20, page.next_page_token!));
    }
    await expectIndexed('models task', repository.buildListQuery({ task: 'rerank' }, 'name', 20, undefined));
    await expectIndexed('models subject', repository.buildListQuery({ subject: 's7' }, 'name', 20, undefined));
    await expectIndexed('models q', repository.buildListQuery({ q: 'm-19' }, 'name', 20, undefined));
  });

  it('versions: every sort, per model and catalog-wide, and every filter', async () => {
    const repository = sut.app.get(VersionsRepository);
    for (const sort of VERSION_SORTS) {
      await expectIndexed(`versions ${sort}`, repository.buildListQuery({}, sort, 20, undefined));
      await expectIndexed(`versions model ${sort}`, repository.buildListQuery({ model_id: 77 }, sort, 20, undefined));
      const page = await repository.listPage({}, sort, 20, undefined, (row) => row);
      await expectIndexed(`versions ${sort} page 2`, repository.buildListQuery({}, sort, 20, page.next_page_token!));
    }
    const filters = [
      { region: 'eu-west-1' },
      { framework: 'onnx' },
      { model_type: 'llm' },
      { slo_ok: false },
      { archived: true },
      { archived: false },
      { min_eval_score: 0.8 },
      { max_cost_per_1k: 0.02 },
      { model_id: 5, archived: false },
    ];
    for (const filter of filters) await expectIndexed(`versions ${JSON.stringify(filter)}`, repository.buildListQuery(filter, '-created_at', 20, undefined));
  });

  it('bindings: every sort and every filter', async () => {
    const repository = sut.app.get(BindingsRepository);
    for (const sort of BINDING_SORTS) await expectIndexed(`bindings ${sort}`, repository.buildListQuery({}, sort, 20, undefined));
    for (const filter of [{ version_id: 123 }, { model_id: 45 }, { provider: 'vertex' }, { status: 'deprecated' as const }]) {
      await expectIndexed(`bindings ${JSON.stringify(filter)}`, repository.buildListQuery(filter, '-created_at', 20, undefined));
    }
  });
});
