import { expectProblem } from './support/problem';
import { create, makeBinding, makeModel, makeVersion, sha256 } from './support/factories';
import { createTestApp, type TestApp } from './support/test-app';

describe('versions', () => {
  let sut: TestApp;
  let modelId: number;

  beforeAll(async () => {
    sut = await createTestApp('versions');
    modelId = (await create(sut.http, '/models', makeModel())).id;
  });
  afterAll(() => sut.close());

  describe('POST /versions', () => {
    it('registers the version of the brief: 201, Location, numbers as numbers', async () => {
      const response = await sut.http
        .post('/versions')
        .send({
          model_id: modelId,
          hash: 'a1b2c3d4e5f6789012345678901234567890123456789012345678901234abcd',
          version: '1.0.0',
          region: 'us-east-1',
          cost_per_1k: 0.01,
          eval_score: 0.92,
          artifact_uri: 's3://models/gpt-4-turbo/v1.0.0/model.bin',
        })
        .expect(201);
      expect(response.body).toEqual({
        id: expect.any(Number),
        model_id: modelId,
        hash: 'a1b2c3d4e5f6789012345678901234567890123456789012345678901234abcd',
        version: '1.0.0',
        region: 'us-east-1',
        cost_per_1k: 0.01,
        eval_score: 0.92,
        slo_ok: true,
        pinned: false,
        artifact_uri: 's3://models/gpt-4-turbo/v1.0.0/model.bin',
        archive_uri: null,
        size_bytes: null,
        model_type: null,
        framework: null,
        created_at: expect.any(String),
        updated_at: expect.any(String),
        archived_at: null,
        aliases: [],
        labels: {},
        source: null,
        metadata: {},
      });
      expect(response.headers.location).toBe(`/versions/${response.body.id}`);
    });

    it('stores the hash lowercase and keeps size_bytes exact up to 2^53-1', async () => {
      const hash = sha256('upper').toUpperCase();
      const response = await sut.http.post('/versions').send(makeVersion(modelId, { hash, size_bytes: Number.MAX_SAFE_INTEGER })).expect(201);
      expect(response.body.hash).toBe(hash.toLowerCase());
      expect(response.body.size_bytes).toBe(Number.MAX_SAFE_INTEGER);
    });

    it('answers a repeated identical registration with 200 and the same version', async () => {
      const body = makeVersion(modelId);
      const first = await sut.http.post('/versions').send(body).expect(201);
      const again = await sut.http.post('/versions').send({ ...body, hash: body.hash.toUpperCase() }).expect(200);
      expect(again.body).toEqual(first.body);
    });

    it('refuses the same version with another hash (409 on version) and the same hash as another version (409 on hash)', async () => {
      const body = makeVersion(modelId);
      const first = await create(sut.http, '/versions', body);
      const versionClash = expectProblem(await sut.http.post('/versions').send({ ...body, hash: sha256('other') }), 409, 'conflict');
      expect(versionClash.errors).toEqual([{ field: 'version', message: expect.any(String) }]);
      expect(versionClash.existing_version_id).toBe(first.id);
      const hashClash = expectProblem(await sut.http.post('/versions').send({ ...body, version: '99.0.0' }), 409, 'conflict');
      expect(hashClash.errors).toEqual([{ field: 'hash', message: expect.any(String) }]);
    });

    it('lets another model use the same hash and version', async () => {
      const other = await create(sut.http, '/models', makeModel());
      const body = makeVersion(modelId);
      await create(sut.http, '/versions', body);
      await sut.http.post('/versions').send({ ...body, model_id: other.id }).expect(201);
    });

    it('50 concurrent identical registrations make one row: one 201, the rest 200', async () => {
      const body = makeVersion(modelId);
      const responses = await Promise.all(Array.from({ length: 50 }, () => sut.http.post('/versions').send(body)));
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 200)).toHaveLength(49);
      expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
      const { rows } = await sut.db.query('SELECT count(*)::int AS n FROM model_versions WHERE model_id = $1 AND hash = $2', [modelId, body.hash]);
      expect(rows[0].n).toBe(1);
    });

    it('50 concurrent registrations of one version with different hashes: one 201, 49 × 409, one row', async () => {
      const version = '7.7.7';
      const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => sut.http.post('/versions').send(makeVersion(modelId, { version, hash: sha256(`race-${i}`) }))));
      expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
      expect(responses.filter((r) => r.status === 409)).toHaveLength(49);
      const { rows } = await sut.db.query('SELECT count(*)::int AS n FROM model_versions WHERE model_id = $1 AND version = $2', [modelId, version]);
      expect(rows[0].n).toBe(1);
    });

    it('answers 404 (field model_id) for a model that does not exist', async () => {
      const problem = expectProblem(await sut.http.post('/versions').send(makeVersion(999999)), 404, 'not-found');
      expect(problem.errors).toEqual([{ field: 'model_id', message: expect.any(String) }]);
    });

    it.each([
      ['a short hash', { hash: 'abc' }, 'hash'],
      ['a non-hex hash', { hash: 'z'.repeat(64) }, 'hash'],
      ['a v-prefixed version', { version: 'v1.0.0' }, 'version'],
      ['a two-part version', { version: '1.0' }, 'version'],
      ['a leading-zero version', { version: '01.0.0' }, 'version'],
      ['eval_score above 1', { eval_score: 1.01 }, 'eval_score'],
      ['eval_score below 0', { eval_score: -0.1 }, 'eval_score'],
      ['eval_score as a string', { eval_score: '0.9' }, 'eval_score'],
      ['a negative cost', { cost_per_1k: -1 }, 'cost_per_1k'],
      ['a fractional size', { size_bytes: 1.5 }, 'size_bytes'],
      ['a size beyond 2^53', { size_bytes: 2 ** 53 + 2 }, 'size_bytes'],
      ['a relative artifact_uri', { artifact_uri: 'models/x.bin' }, 'artifact_uri'],
      ['an artifact_uri with spaces', { artifact_uri: 's3://bucket/my model.bin' }, 'artifact_uri'],
      ['a bad archive_uri', { archive_uri: 'not a uri' }, 'archive_uri'],
      ['an uppercase framework', { framework: 'PyTorch' }, 'framework'],
      ['slo_ok as a string', { slo_ok: 'yes' }, 'slo_ok'],
      ['archived_at (set only by retention)', { archived_at: '2026-01-01T00:00:00Z' }, 'archived_at'],
      ['model_id as a string', { model_id: '1' }, 'model_id'],
    ])('rejects %s with 400', async (_label, override, field) => {
      const problem = expectProblem(await sut.http.post('/versions').send(makeVersion(modelId, override)), 400, 'validation-error');
      expect(problem.errors!.map((e) => e.field)).toContain(field);
    });

    it('accepts the artifact URI schemes a registry meets', async () => {
      for (const uri of ['gs://bucket/a.bin', 'file:///var/models/a.bin', 'https://hf.co/org/model/resolve/main/a.bin', 'az://container/a.bin']) {
        await sut.http.post('/versions').send(makeVersion(modelId, { artifact_uri: uri })).expect(201);
      }
    });
  });

  describe('GET, PUT, DELETE /versions/{id}', () => {
    it('reads by id with ETag and 304', async () => {
      const version = await create(sut.http, '/versions', makeVersion(modelId));
      const read = await sut.http.get(`/versions/${version.id}`).expect(200);
      expect(read.body).toEqual(version);
      await sut.http.get(`/versions/${version.id}`).set('If-None-Match', read.headers.etag).expect(304);
      expectProblem(await sut.http.get('/versions/999999'), 404, 'not-found');
    });

    it('updates only the fields sent, clears with null, and accepts identity fields with unchanged values', async () => {
      const version = await create(sut.http, '/versions', makeVersion(modelId, { framework: 'onnx' }));
      const response = await sut.http
        .put(`/versions/${version.id}`)
        .send({ eval_score: 0.5, slo_ok: false, framework: null, hash: version.hash.toUpperCase(), version: version.version, model_id: modelId })
        .expect(200);
      expect(response.body).toMatchObject({ eval_score: 0.5, slo_ok: false, framework: null, region: version.region, cost_per_1k: version.cost_per_1k });
    });

    it.each([
      ['hash', () => ({ hash: sha256('changed') })],
      ['version', () => ({ version: '9.9.9' })],
      ['model_id', () => ({ model_id: 424242 })],
    ])('refuses to change the immutable %s with 400', async (field, change) => {
      const version = await create(sut.http, '/versions', makeVersion(modelId));
      const problem = expectProblem(await sut.http.put(`/versions/${version.id}`).send(change()), 400, 'validation-error');
      expect(problem.errors).toEqual([{ field, message: expect.stringContaining('immutable') }]);
      const { rows } = await sut.db.query('SELECT hash, version, model_id FROM model_versions WHERE id = $1', [version.id]);
      expect(rows[0]).toEqual({ hash: version.hash, version: version.version, model_id: modelId });
    });

    it('refuses archived_at in an update', async () => {
      const version = await create(sut.http, '/versions', makeVersion(modelId));
      expectProblem(await sut.http.put(`/versions/${version.id}`).send({ archived_at: null }), 400, 'validation-error');
    });

    it('honours If-Match on update and delete', async () => {
      const version = await create(sut.http, '/versions', makeVersion(modelId));
      expectProblem(await sut.http.put(`/versions/${version.id}`).set('If-Match', '"stale"').send({ eval_score: 0.1 }), 412, 'precondition-failed');
      expectProblem(await sut.http.delete(`/versions/${version.id}`).set('If-Match', '"stale"'), 412, 'precondition-failed');
      const { headers } = await sut.http.get(`/versions/${version.id}`);
      await sut.http.delete(`/versions/${version.id}`).set('If-Match', headers.etag).expect(204);
    });

    it('refuses to delete a version with an active binding (409), and deletes it with its bindings once none is active', async () => {
      const version = await create(sut.http, '/versions', makeVersion(modelId));
      const active = await create(sut.http, '/bindings', makeBinding(version.id));
      const inactive = await create(sut.http, '/bindings', makeBinding(version.id, { status: 'inactive' }));
      const problem = expectProblem(await sut.http.delete(`/versions/${version.id}`), 409, 'conflict');
      expect(problem.active_binding_ids).toEqual([active.id]);
      await sut.http.put(`/bindings/${active.id}`).send({ status: 'deprecated' }).expect(200);
      await sut.http.delete(`/versions/${version.id}`).expect(204);
      const { rows } = await sut.db.query('SELECT id FROM provider_bindings WHERE id = ANY($1)', [[active.id, inactive.id]]);
      expect(rows).toEqual([]);
    });
  });

  describe('DELETE /models/{id} with versions', () => {
    it('is refused while any binding of the model is active, then removes the whole tree in one go', async () => {
      const model = await create(sut.http, '/models', makeModel());
      const v1 = await create(sut.http, '/versions', makeVersion(model.id));
      const v2 = await create(sut.http, '/versions', makeVersion(model.id));
      const binding = await create(sut.http, '/bindings', makeBinding(v2.id));
      const problem = expectProblem(await sut.http.delete(`/models/${model.id}`), 409, 'conflict');
      expect(problem.active_binding_ids).toEqual([binding.id]);
      await sut.http.put(`/bindings/${binding.id}`).send({ status: 'inactive' }).expect(200);
      await sut.http.delete(`/models/${model.id}`).expect(204);
      const { rows } = await sut.db.query('SELECT id FROM model_versions WHERE id = ANY($1)', [[v1.id, v2.id]]);
      expect(rows).toEqual([]);
    });
  });

  describe('GET /versions', () => {
    let listModel: number;
    let all: Record<string, any>[];

    beforeAll(async () => {
      listModel = (await create(sut.http, '/models', makeModel())).id;
      const specs = [
        { version: '1.0.0', eval_score: 0.5, cost_per_1k: 0.03, framework: 'pytorch', region: 'us-east-1', slo_ok: true },
        { version: '1.10.0', eval_score: 0.9, cost_per_1k: 0.01, framework: 'onnx', region: 'eu-west-1', slo_ok: false },
        { version: '1.2.0', eval_score: null, cost_per_1k: null, framework: 'pytorch', region: 'us-east-1', slo_ok: true, model_type: 'llm' },
        { version: '2.0.0-rc.1', eval_score: 0.7, cost_per_1k: 0.02, framework: 'onnx', region: 'us-east-1', slo_ok: true },
        { version: '2.0.0', eval_score: 0.95, cost_per_1k: 0.05, framework: 'pytorch', region: 'eu-west-1', slo_ok: true, model_type: 'llm' },
      ];
      all = [];
      for (const spec of specs) all.push(await create(sut.http, '/versions', makeVersion(listModel, spec)));
      await sut.db.query('UPDATE model_versions SET archived_at = now() WHERE id = $1', [all[0].id]);
      all[0].archived_at = 'set';
    });

    const versionsOf = async (query: Record<string, unknown>, limit = 2) => {
      const seen: string[] = [];
      let token: string | null = null;
      do {
        const response: { body: { items: { version: string }[]; next_page_token: string | null } } = await sut.http
          .get('/versions')
          .query({ model_id: listModel, limit, ...query, ...(token ? { page_token: token } : {}) })
          .expect(200);
        seen.push(...response.body.items.map((v) => v.version));
        token = response.body.next_page_token;
      } while (token);
      return seen;
    };

    it('defaults to newest first', async () => {
      expect(await versionsOf({})).toEqual(['2.0.0', '2.0.0-rc.1', '1.2.0', '1.10.0', '1.0.0']);
    });

    it('sorts by SemVer precedence, not text', async () => {
      expect(await versionsOf({ sort: 'version' })).toEqual(['1.0.0', '1.2.0', '1.10.0', '2.0.0-rc.1', '2.0.0']);
      expect(await versionsOf({ sort: '-version' }, 3)).toEqual(['2.0.0', '2.0.0-rc.1', '1.10.0', '1.2.0', '1.0.0']);
    });

    it('sorts by eval_score (missing lowest) and cost (missing highest) across pages', async () => {
      expect(await versionsOf({ sort: '-eval_score' })).toEqual(['2.0.0', '1.10.0', '2.0.0-rc.1', '1.0.0', '1.2.0']);
      expect(await versionsOf({ sort: 'cost_per_1k' })).toEqual(['1.10.0', '2.0.0-rc.1', '1.0.0', '2.0.0', '1.2.0']);
    });

    it('applies every filter', async () => {
      expect(await versionsOf({ framework: 'onnx', sort: 'version' })).toEqual(['1.10.0', '2.0.0-rc.1']);
      expect(await versionsOf({ region: 'eu-west-1', sort: 'version' })).toEqual(['1.10.0', '2.0.0']);
      expect(await versionsOf({ model_type: 'llm', sort: 'version' })).toEqual(['1.2.0', '2.0.0']);
      expect(await versionsOf({ slo_ok: false })).toEqual(['1.10.0']);
      expect(await versionsOf({ archived: true })).toEqual(['1.0.0']);
      expect(await versionsOf({ archived: false, sort: 'version' })).toEqual(['1.2.0', '1.10.0', '2.0.0-rc.1', '2.0.0']);
      expect(await versionsOf({ min_eval_score: 0.9, sort: 'version' })).toEqual(['1.10.0', '2.0.0']);
      expect(await versionsOf({ max_cost_per_1k: 0.02, sort: 'version' })).toEqual(['1.10.0', '2.0.0-rc.1']);
    });

    it.each([
      [{ slo_ok: 'yes' }, 'slo_ok'],
      [{ archived: '1' }, 'archived'],
      [{ min_eval_score: 2 }, 'min_eval_score'],
      [{ max_cost_per_1k: 'cheap' }, 'max_cost_per_1k'],
      [{ model_id: 'x' }, 'model_id'],
      [{ sort: 'hash' }, 'sort'],
    ])('rejects %j with 400', async (query, field) => {
      const problem = expectProblem(await sut.http.get('/versions').query(query), 400, 'validation-error');
      expect(problem.errors!.map((e) => e.field)).toContain(field);
    });
  });
});
