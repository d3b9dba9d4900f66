import { expectProblem } from './support/problem';
import { create, makeBinding, makeModel, makeVersion } from './support/factories';
import { createTestApp, type TestApp } from './support/test-app';

interface V {
  id: number;
  model: number;
  framework: string | null;
  eval_score: number | null;
  cost_per_1k: number | null;
  slo_ok: boolean;
  size_bytes: number;
  archived: boolean;
}
interface B {
  id: number;
  version: number;
  provider: string;
  status: string;
}

const tally = <T>(items: T[], key: (item: T) => string) =>
  items.reduce<Record<string, number>>((counts, item) => ({ ...counts, [key(item)]: (counts[key(item)] ?? 0) + 1 }), {});
const sorted = (record: Record<string, number>) => Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
const summary = (values: number[]) => ({
  count: values.length,
  mean: values.length ? values.reduce((a, b) => a + b, 0) / values.length : null,
  min: values.length ? Math.min(...values) : null,
  max: values.length ? Math.max(...values) : null,
});

/** /stats against figures the test computes itself from what it created, changed and deleted. */
describe('GET /stats', () => {
  let sut: TestApp;
  const models: { id: number; task: string }[] = [];
  const versions: V[] = [];
  const bindings: B[] = [];

  beforeAll(async () => {
    sut = await createTestApp('stats');
    const tasks = ['generation', 'generation', 'embedding', 'rerank'];
    for (const task of tasks) models.push({ id: (await create(sut.http, '/models', makeModel({ task }))).id, task });
    const frameworks = ['pytorch', 'onnx', null];
    let i = 0;
    for (const model of models) {
      for (let n = 0; n < 5; n++, i++) {
        const spec = {
          framework: frameworks[i % 3],
          eval_score: i % 4 === 0 ? null : (i % 10) / 10,
          cost_per_1k: i % 5 === 0 ? null : i / 1000,
          slo_ok: i % 3 !== 0,
          size_bytes: 100 * i,
        };
        const version = await create(sut.http, '/versions', makeVersion(model.id, spec));
        versions.push({ id: version.id, model: model.id, ...spec, archived: false });
      }
    }
    const providers = ['openai', 'vertex', 'bedrock'];
    const statuses = ['active', 'inactive', 'deprecated'];
    for (const [k, version] of versions.entries()) {
      if (k % 2) continue;
      const binding = await create(sut.http, '/bindings', makeBinding(version.id, { provider: providers[k % 3], status: statuses[(k >> 1) % 3] }));
      bindings.push({ id: binding.id, version: version.id, provider: providers[k % 3], status: statuses[(k >> 1) % 3] });
    }
    // Changes after creation: a score, a framework, a status, retention, and deletes that cascade.
    await sut.http.put(`/versions/${versions[1].id}`).send({ eval_score: 0.95, framework: 'tensorflow' }).expect(200);
    Object.assign(versions[1], { eval_score: 0.95, framework: 'tensorflow' });
    await sut.http.put(`/bindings/${bindings[0].id}`).send({ status: 'deprecated' }).expect(200);
    bindings[0].status = 'deprecated';
    const report = await sut.http.post('/retention/apply').send({ retention_count: 3 }).expect(200);
    const archived = new Set<number>(report.body.models.flatMap((m: { archived: { version_id: number }[] }) => m.archived.map((a) => a.version_id)));
    for (const version of versions) version.archived = archived.has(version.id);
    const deletable = versions.find((v) => !v.archived && !bindings.some((b) => b.version === v.id && b.status === 'active'))!;
    await sut.http.delete(`/versions/${deletable.id}`).expect(204);
    versions.splice(versions.indexOf(deletable), 1);
    bindings.splice(0, bindings.length, ...bindings.filter((b) => b.version !== deletable.id));
    const lastModel = models[models.length - 1];
    for (const binding of bindings.filter((b) => versions.find((v) => v.id === b.version)?.model === lastModel.id && b.status === 'active')) {
      await sut.http.put(`/bindings/${binding.id}`).send({ status: 'inactive' }).expect(200);
      binding.status = 'inactive';
    }
    await sut.http.delete(`/models/${lastModel.id}`).expect(204);
    models.pop();
    const gone = new Set(versions.filter((v) => v.model === lastModel.id).map((v) => v.id));
    versions.splice(0, versions.length, ...versions.filter((v) => !gone.has(v.id)));
    bindings.splice(0, bindings.length, ...bindings.filter((b) => !gone.has(b.version)));
  });
  afterAll(() => sut.close());

  function expected(scope: V[], scopeBindings: B[], scopeModels: { task: string }[]) {
    const live = scope.filter((v) => !v.archived);
    return {
      models: { total: scopeModels.length, by_task: sorted(tally(scopeModels, (m) => m.task)) },
      versions: { total: scope.length, live: live.length, archived: scope.length - live.length, by_framework: sorted(tally(scope, (v) => v.framework ?? '(none)')) },
      bindings: { total: scopeBindings.length, by_provider: sorted(tally(scopeBindings, (b) => b.provider)), by_status: sorted(tally(scopeBindings, (b) => b.status)) },
      eval_score: summary(live.flatMap((v) => (v.eval_score === null ? [] : [v.eval_score]))),
      cost_per_1k: summary(live.flatMap((v) => (v.cost_per_1k === null ? [] : [v.cost_per_1k]))),
      slo: { compliance: live.filter((v) => v.slo_ok).length / live.length, ok: live.filter((v) => v.slo_ok).length, live: live.length },
      archived_bytes: scope.filter((v) => v.archived).reduce((sum, v) => sum + v.size_bytes, 0),
    };
  }

  const close = (received: { mean: number | null }, wanted: { mean: number | null }) => {
    expect(received.mean).toBeCloseTo(wanted.mean!, 9);
    return { ...received, mean: wanted.mean };
  };

  it('equals figures computed independently from the rows created, changed and deleted', async () => {
    const { body } = await sut.http.get('/stats').expect(200);
    const want = expected(versions, bindings, models);
    expect(body.model_id).toBeNull();
    expect({ models: body.models, versions: body.versions, bindings: body.bindings, slo: body.slo }).toEqual({
      models: want.models,
      versions: want.versions,
      bindings: want.bindings,
      slo: want.slo,
    });
    expect(close(body.eval_score, want.eval_score)).toEqual(want.eval_score);
    expect(close(body.cost_per_1k, want.cost_per_1k)).toEqual(want.cost_per_1k);
    expect(body.retention).toMatchObject({ archived_versions: want.versions.archived, archived_bytes: want.archived_bytes, purged_total: 0, runs_total: 1, last_run_status: 'succeeded' });
    const newest = (await sut.db.query('SELECT max(created_at) AS at FROM model_versions')).rows[0].at as Date;
    expect(body.newest_registration_at).toBe(newest.toISOString());
  });

  it('narrows every figure to one model with model_id', async () => {
    const model = models[0];
    const { body } = await sut.http.get('/stats').query({ model_id: model.id }).expect(200);
    const scope = versions.filter((v) => v.model === model.id);
    const want = expected(scope, bindings.filter((b) => scope.some((v) => v.id === b.version)), [model]);
    expect({ models: body.models, versions: body.versions, bindings: body.bindings, slo: body.slo }).toEqual({
      models: want.models,
      versions: { ...want.versions, by_framework: body.versions.by_framework },
      bindings: want.bindings,
      slo: want.slo,
    });
    expect(sorted(body.versions.by_framework)).toEqual(want.versions.by_framework);
    expect(close(body.eval_score, want.eval_score)).toEqual(want.eval_score);
    expect(body.retention).toMatchObject({ archived_versions: want.versions.archived, archived_bytes: want.archived_bytes, purged_total: null });
  });

  it('stays exact under concurrent writes', async () => {
    const model = await create(sut.http, '/models', makeModel({ task: 'concurrency' }));
    const before = (await sut.http.get('/stats')).body;
    const responses = await Promise.all(Array.from({ length: 40 }, () => sut.http.post('/versions').send(makeVersion(model.id, { framework: 'jax', eval_score: 0.5 }))));
    expect(responses.every((r) => r.status === 201)).toBe(true);
    const after = (await sut.http.get('/stats')).body;
    expect(after.versions.total - before.versions.total).toBe(40);
    expect(after.versions.by_framework.jax).toBe(40);
    expect(after.eval_score.count - before.eval_score.count).toBe(40);
    expect(after.models.by_task.concurrency).toBe(1);
  });

  it('answers 404 for an unknown model and 400 for a bad model_id', async () => {
    expectProblem(await sut.http.get('/stats').query({ model_id: 999999 }), 404, 'not-found');
    expectProblem(await sut.http.get('/stats').query({ model_id: 'x' }), 400, 'validation-error');
  });
});
