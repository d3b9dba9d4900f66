import { BindingsRepository } from '../src/bindings/bindings.repository';
import { BINDING_SORTS } from '../src/bindings/dto/list-bindings-query.dto';
import { MODEL_SORTS } from '../src/models/dto/list-models-query.dto';
import { ModelsRepository } from '../src/models/models.repository';
import { VERSION_SORTS } from '../src/versions/dto/list-versions-query.dto';
import { VersionsRepository } from '../src/versions/versions.repository';
import type { ListQuery } from '../src/common/pagination/keyset';
import { parseSelector } from '../src/common/labels/selector';
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
      INSERT INTO provider_bindings (version_id, provider, provider_model_id, status, avg_latency_ms, success_rate, labels)
        SELECT v.id, p, 'pm-' || v.id, (ARRAY['active','inactive','deprecated'])[1 + v.id % 3], (v.id % 500)::float, (v.id % 100) / 100.0,
               jsonb_build_object('region', (ARRAY['us','eu','apac'])[1 + v.id % 3], 'deployment', 'd' || (v.id % 5000))
          FROM model_versions v CROSS JOIN unnest(ARRAY['openai','vertex']) p;
      ANALYZE;
    `);
    await settleLabelIndexes(sut);
  }, 120_000);
  afterAll(() => sut.close());

  const expectIndexed = (label: string, query: ListQuery, index?: string) => expectIndexedPlan(sut, label, query, index);


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
    await expectIndexed('bindings selector =', repository.buildListQuery({ selector: parseSelector('deployment=d42') }, '-created_at', 20, undefined), 'ix_provider_bindings_labels');
    await expectIndexed('bindings selector in', repository.buildListQuery({ selector: parseSelector('deployment in (d1,d2,d3)') }, 'provider', 20, undefined), 'ix_provider_bindings_labels');
    await expectIndexed('bindings selector + status', repository.buildListQuery({ status: 'active', selector: parseSelector('region=eu') }, '-created_at', 20, undefined));
  });
});

/**
 * Moves the GIN indexes' pending entries into the index proper, as autovacuum does after a while: a
 * bulk load leaves up to gin_pending_list_limit of them, which every scan must read, and the planner
 * rightly prices the index out until they are merged.
 */
async function settleLabelIndexes(sut: TestApp) {
  await sut.db.query(`SELECT gin_clean_pending_list(i::regclass) FROM unnest(ARRAY['ix_models_labels', 'ix_model_versions_labels', 'ix_provider_bindings_labels']) i`);
}

/**
 * The plan of a list query: no whole-table scan of the catalog tables, an index used (`index`, when
 * given, among them).
 */
async function expectIndexedPlan(sut: TestApp, label: string, query: ListQuery, index?: string) {
  const [{ 'QUERY PLAN': plan }] = (await sut.db.query(`EXPLAIN (FORMAT JSON) ${query.sql}`, query.params)).rows as { 'QUERY PLAN': { Plan: PlanNode }[] }[];
  const all = nodes(plan[0].Plan);
  // The catalog tables; tiny side tables (aliases) may be read whole.
  const seqScans = all.filter((node) => node['Node Type'] === 'Seq Scan' && ['models', 'model_versions', 'provider_bindings'].includes(node['Relation Name']!)).map((node) => node['Relation Name']);
  const indexes = all.filter((node) => node['Index Name']).map((node) => node['Index Name']!);
  if (process.env.SHOW_PLANS) console.log(label, indexes.join(','));
  expect({ label, seqScans, usesIndex: indexes.length > 0, usesExpectedIndex: index === undefined || indexes.includes(index) }).toEqual({
    label,
    seqScans: [],
    usesIndex: true,
    usesExpectedIndex: true,
  });
}

/**
 * Label selectors over 200,000 labelled versions: equality and `in` are answered by the GIN index
 * (jsonb_path_ops containment), alone or with the other filters and any sort order, on every page.
 */
describe('label selector plans over 200,000 versions', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await createTestApp('query-plans-labels');
    // Bulk seed without the row triggers (change feed, counters, label rules): the plans are the point.
    await sut.db.query(`
      SET session_replication_role = replica;
      INSERT INTO models (name, task, subject, labels)
        SELECT 'm-' || g, 'generation', 'general', jsonb_build_object('team', 't' || (g % 50), 'owner', 'o' || (g % 1000)) FROM generate_series(1, 20000) g;
      INSERT INTO model_versions (model_id, hash, version, version_sort_key, region, cost_per_1k, eval_score, created_at, labels)
        SELECT m.id, md5(m.id || '-' || n) || md5(n || '-' || m.id), '1.0.' || n,
               lpad('1', 16, '0') || '.' || lpad('0', 16, '0') || '.' || lpad(n::text, 16, '0') || '~',
               (ARRAY['us-east-1','eu-west-1'])[1 + n % 2], (n % 13) / 100.0, (n % 10) / 10.0, now() - ((m.id * 10 + n) || ' minutes')::interval,
               CASE WHEN n = 10 THEN '{}'::jsonb
                    ELSE jsonb_build_object('env', (ARRAY['prod','staging','dev'])[1 + n % 3], 'team', 't' || (m.id % 50), 'experiment', 'e' || ((m.id * 10 + n) % 2000)) END
          FROM models m CROSS JOIN generate_series(1, 10) n;
      SET session_replication_role = origin;
    `);
    await settleLabelIndexes(sut);
    // Deterministic statistics: a sample of every row (300 × the target ≥ 200,000), and no autovacuum
    // analyze re-sampling behind the test's back — a random sample moved the planner's estimate of
    // a rare label enough to flip plans between runs.
    await sut.db.query(`
      ALTER TABLE models SET (autovacuum_enabled = false);
      ALTER TABLE model_versions SET (autovacuum_enabled = false);
      ALTER TABLE models ALTER COLUMN labels SET STATISTICS 1000;
      ALTER TABLE model_versions ALTER COLUMN labels SET STATISTICS 1000;
      ANALYZE models, model_versions;`);
  }, 300_000);
  afterAll(() => sut.close());

  it('equality and in selectors use the labels index, with every sort, filters and later pages', async () => {
    const repository = sut.app.get(VersionsRepository);
    const { rows } = await sut.db.query('SELECT count(*)::int AS n FROM model_versions');
    expect(rows[0].n).toBe(200_000);
    const selective = ['experiment=e7', 'experiment==e7,env=prod', 'experiment in (e1,e2,e3)', 'team=t3,experiment in (e3,e53)', 'experiment=e9,env!=dev,!retired'];
    for (const selector of selective) {
      for (const sort of VERSION_SORTS) {
        await expectIndexedPlan(sut, `versions ${selector} ${sort}`, repository.buildListQuery({ selector: parseSelector(selector) }, sort, 20, undefined), 'ix_model_versions_labels');
      }
      await expectIndexedPlan(sut, `versions ${selector} + region`, repository.buildListQuery({ selector: parseSelector(selector), region: 'eu-west-1', archived: false }, '-created_at', 20, undefined), 'ix_model_versions_labels');
    }
    const filter = { selector: parseSelector('experiment in (e1,e2,e3)') };
    const page = await repository.listPage(filter, '-created_at', 20, undefined, (row) => row);
    expect(page.items).toHaveLength(20);
    await expectIndexedPlan(sut, 'versions selector page 2', repository.buildListQuery(filter, '-created_at', 20, page.next_page_token!), 'ix_model_versions_labels');
  });

  it('broad selectors and negations never scan the whole table either (a sort index with a filter)', async () => {
    const repository = sut.app.get(VersionsRepository);
    for (const selector of ['env=prod', 'env in (prod,staging)', 'env!=prod', 'team', '!experiment']) {
      await expectIndexedPlan(sut, `versions ${selector}`, repository.buildListQuery({ selector: parseSelector(selector) }, '-created_at', 20, undefined));
    }
    await expectIndexedPlan(sut, 'versions model + selector', repository.buildListQuery({ model_id: 77, selector: parseSelector('env notin (dev)') }, 'version', 20, undefined));
  });

  it('models (20,000 of them): equality and in selectors use the labels index', async () => {
    const repository = sut.app.get(ModelsRepository);
    for (const sort of MODEL_SORTS) {
      await expectIndexedPlan(sut, `models owner=o7 ${sort}`, repository.buildListQuery({ selector: parseSelector('owner=o7') }, sort, 20, undefined), 'ix_models_labels');
      await expectIndexedPlan(sut, `models owner in ${sort}`, repository.buildListQuery({ selector: parseSelector('owner in (o1,o2),team') }, sort, 20, undefined), 'ix_models_labels');
    }
    await expectIndexedPlan(sut, 'models broad', repository.buildListQuery({ selector: parseSelector('team!=t1'), task: 'generation' }, 'name', 20, undefined));
  });
});
