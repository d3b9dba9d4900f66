import { expectProblem } from './support/problem';
import { create, makeBinding, makeModel, makeVersion } from './support/factories';
import { modelWithVersions } from './support/retention';
import { createTestApp, type TestApp } from './support/test-app';

describe('aliases', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await createTestApp('aliases');
  });
  afterAll(() => sut.close());

  it('creates (201), moves (200) and lists aliases on the model and on its versions', async () => {
    const { model, versions } = await modelWithVersions(sut.http, sut.db, 3);
    const created = await sut.http.put(`/models/${model.id}/aliases/production`).send({ version_id: versions[0].id }).expect(201);
    expect(created.body).toMatchObject({ model_id: model.id, alias: 'production', version_id: versions[0].id, version: versions[0].version });
    expect(created.headers.location).toBe(`/models/${model.id}/aliases/production`);
    await sut.http.put(`/models/${model.id}/aliases/staging`).send({ version_id: versions[2].id }).expect(201);
    const moved = await sut.http.put(`/models/${model.id}/aliases/production`).send({ version_id: versions[1].id }).expect(200);
    expect(moved.body.version_id).toBe(versions[1].id);

    expect((await sut.http.get(`/models/${model.id}`)).body.aliases).toEqual({ production: versions[1].id, staging: versions[2].id });
    expect((await sut.http.get(`/versions/${versions[1].id}`)).body.aliases).toEqual(['production']);
    expect((await sut.http.get(`/versions/${versions[0].id}`)).body.aliases).toEqual([]);
    const list = await sut.http.get(`/models/${model.id}/aliases`).expect(200);
    expect(list.body.map((a: { alias: string }) => a.alias)).toEqual(['production', 'staging']);
    await sut.http.get(`/models/${model.id}/aliases/staging`).expect(200);

    await sut.http.delete(`/models/${model.id}/aliases/staging`).expect(204);
    expectProblem(await sut.http.get(`/models/${model.id}/aliases/staging`), 404, 'not-found');
    expectProblem(await sut.http.delete(`/models/${model.id}/aliases/staging`), 404, 'not-found');
  });

  it('moving an alias changes the model ETag', async () => {
    const { model, versions } = await modelWithVersions(sut.http, sut.db, 2);
    await sut.http.put(`/models/${model.id}/aliases/production`).send({ version_id: versions[0].id }).expect(201);
    const before = (await sut.http.get(`/models/${model.id}`)).headers.etag;
    await sut.http.put(`/models/${model.id}/aliases/production`).send({ version_id: versions[1].id }).expect(200);
    await sut.http.get(`/models/${model.id}`).set('If-None-Match', before).expect(200);
  });

  it('a guarded move (If-Match with the alias ETag) happens only while the alias is as it was read', async () => {
    const { model, versions } = await modelWithVersions(sut.http, sut.db, 3);
    const path = `/models/${model.id}/aliases/production`;
    expectProblem(await sut.http.put(path).set('If-Match', '*').send({ version_id: versions[0].id }), 404, 'not-found');
    expect((await sut.db.query('SELECT 1 FROM model_aliases WHERE model_id = $1', [model.id])).rowCount).toBe(0);

    const created = await sut.http.put(path).send({ version_id: versions[0].id }).expect(201);
    const read = await sut.http.get(path).expect(200);
    expect(read.headers.etag).toBe(created.headers.etag);
    await sut.http.get(path).set('If-None-Match', read.headers.etag).expect(304);

    const guarded = await sut.http.put(path).set('If-Match', read.headers.etag).send({ version_id: versions[1].id }).expect(200);
    expect(guarded.body.version_id).toBe(versions[1].id);
    expect(guarded.headers.etag).not.toBe(read.headers.etag);

    // Someone else's copy is stale now: its move is refused with the current ETag, and nothing changes.
    const stale = await sut.http.put(path).set('If-Match', read.headers.etag).send({ version_id: versions[2].id });
    expectProblem(stale, 412, 'precondition-failed');
    expect(stale.body.current_etag).toBe(guarded.headers.etag);
    expect((await sut.http.get(path)).body.version_id).toBe(versions[1].id);
    const audit = await sut.db.query("SELECT count(*)::int AS n FROM audit_log WHERE action = 'alias.set' AND resource_id = $1", [`${model.id}/production`]);
    expect(audit.rows[0].n).toBe(2);
  });

  it('concurrent guarded moves from the same read: exactly one wins, the others get 412', async () => {
    const { model, versions } = await modelWithVersions(sut.http, sut.db, 6);
    const path = `/models/${model.id}/aliases/canary`;
    await sut.http.put(path).send({ version_id: versions[0].id }).expect(201);
    const { etag } = (await sut.http.get(path)).headers;
    const responses = await Promise.all(versions.slice(1).map((version) => sut.http.put(path).set('If-Match', etag).send({ version_id: version.id })));
    expect(responses.map((r) => r.status).sort((x, y) => x - y)).toEqual([200, 412, 412, 412, 412]);
    const winner = responses.find((r) => r.status === 200)!;
    expect((await sut.http.get(path)).body.version_id).toBe(winner.body.version_id);
  });

  it('concurrent moves are atomic: one creation, the rest moves, one alias row pointing at one of the requested versions', async () => {
    const { model, versions } = await modelWithVersions(sut.http, sut.db, 6);
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => sut.http.put(`/models/${model.id}/aliases/canary`).send({ version_id: versions[i % 6].id })),
    );
    expect(responses.map((r) => r.status).sort((x, y) => x - y)).toEqual([...Array(29).fill(200), 201]);
    const { rows } = await sut.db.query('SELECT version_id FROM model_aliases WHERE model_id = $1 AND alias = $2', [model.id, 'canary']);
    expect(rows).toHaveLength(1);
    expect(versions.map((v) => v.id)).toContain(Number(rows[0].version_id));
  });

  it('refuses a version of another model (400), an archived one (409), a missing one (404), a reserved or bad name (400)', async () => {
    const a = await modelWithVersions(sut.http, sut.db, 1);
    const b = await modelWithVersions(sut.http, sut.db, 1);
    expectProblem(await sut.http.put(`/models/${a.model.id}/aliases/production`).send({ version_id: b.versions[0].id }), 400, 'validation-error');
    await sut.db.query('UPDATE model_versions SET archived_at = now() WHERE id = $1', [a.versions[0].id]);
    expectProblem(await sut.http.put(`/models/${a.model.id}/aliases/production`).send({ version_id: a.versions[0].id }), 409, 'conflict');
    expectProblem(await sut.http.put(`/models/${a.model.id}/aliases/production`).send({ version_id: 999999 }), 404, 'not-found');
    expectProblem(await sut.http.put(`/models/999999/aliases/production`).send({ version_id: a.versions[0].id }), 404, 'not-found');
    for (const name of ['latest', 'Production', 'has space', '-x']) {
      expectProblem(await sut.http.put(`/models/${a.model.id}/aliases/${encodeURIComponent(name)}`).send({ version_id: b.versions[0].id }), 400, 'validation-error');
    }
    expectProblem(await sut.http.put(`/models/${a.model.id}/aliases/production`).send({ version_id: '1' }), 400, 'validation-error');
  });

  it('an aliased version cannot be deleted (409) and is protected from retention', async () => {
    const { model, versions } = await modelWithVersions(sut.http, sut.db, 5);
    await sut.http.put(`/models/${model.id}/aliases/production`).send({ version_id: versions[0].id }).expect(201);
    const problem = expectProblem(await sut.http.delete(`/versions/${versions[0].id}`), 409, 'conflict');
    expect(problem.aliases).toEqual(['production']);
    const report = await sut.http.post('/retention/apply').send({ model_id: model.id, retention_count: 1 }).expect(200);
    expect(report.body.models[0].kept).toContainEqual({ version_id: versions[0].id, version: versions[0].version, reason: 'aliased' });
    expect(report.body.totals.archived).toBe(3);
  });

  it('deleting the model takes its aliases with it', async () => {
    const model = await create(sut.http, '/models', makeModel());
    const version = await create(sut.http, '/versions', makeVersion(model.id));
    await create(sut.http, '/bindings', makeBinding(version.id, { status: 'inactive' }));
    await sut.http.put(`/models/${model.id}/aliases/production`).send({ version_id: version.id }).expect(201);
    await sut.http.delete(`/models/${model.id}`).expect(204);
    const { rows } = await sut.db.query('SELECT 1 FROM model_aliases WHERE model_id = $1', [model.id]);
    expect(rows).toEqual([]);
  });
});
