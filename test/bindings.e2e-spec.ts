import { expectProblem } from './support/problem';
import { create, makeBinding, makeModel, makeVersion } from './support/factories';
import { createTestApp, type TestApp } from './support/test-app';

describe('bindings', () => {
  let sut: TestApp;
  let modelId: number;
  let versionId: number;

  beforeAll(async () => {
    sut = await createTestApp('bindings');
    modelId = (await create(sut.http, '/models', makeModel())).id;
    versionId = (await create(sut.http, '/versions', makeVersion(modelId))).id;
  });
  afterAll(() => sut.close());

  describe('POST /bindings', () => {
    it('creates the binding of the brief: 201, Location, config kept as an object', async () => {
      const response = await sut.http
        .post('/bindings')
        .send({ version_id: versionId, provider: 'openai', provider_model_id: 'gpt-4-0125-preview', status: 'active', config: { temperature: 0.7, max_tokens: 2000 } })
        .expect(201);
      expect(response.body).toEqual({
        id: expect.any(Number),
        version_id: versionId,
        model_id: modelId,
        provider: 'openai',
        provider_model_id: 'gpt-4-0125-preview',
        status: 'active',
        config: { temperature: 0.7, max_tokens: 2000 },
        endpoint_url: null,
        avg_latency_ms: null,
        success_rate: null,
        last_used_at: null,
        usage_samples: 0,
        labels: {},
        pricing: null,
        context_window: null,
        max_output_tokens: null,
        capabilities: [],
        created_at: expect.any(String),
        updated_at: expect.any(String),
      });
      expect(response.headers.location).toBe(`/bindings/${response.body.id}`);
    });

    it('defaults status to active and config to {}', async () => {
      const response = await sut.http.post('/bindings').send({ version_id: versionId, provider: 'bedrock', provider_model_id: 'anthropic.claude-v2' }).expect(201);
      expect(response.body).toMatchObject({ status: 'active', config: {} });
    });

    it('refuses a duplicate (version, provider, provider_model_id) with 409', async () => {
      const body = makeBinding(versionId);
      await create(sut.http, '/bindings', body);
      const problem = expectProblem(await sut.http.post('/bindings').send(body), 409, 'conflict');
      expect(problem.errors![0].field).toBe('provider_model_id');
    });

    it('answers 404 (field version_id) for a version that does not exist', async () => {
      const problem = expectProblem(await sut.http.post('/bindings').send(makeBinding(999999)), 404, 'not-found');
      expect(problem.detail).toContain('999999');
    });

    it('refuses an active binding on an archived version, accepts an inactive one', async () => {
      const version = await create(sut.http, '/versions', makeVersion(modelId));
      await sut.db.query('UPDATE model_versions SET archived_at = now() WHERE id = $1', [version.id]);
      expectProblem(await sut.http.post('/bindings').send(makeBinding(version.id)), 409, 'conflict');
      const inactive = await create(sut.http, '/bindings', makeBinding(version.id, { status: 'inactive' }));
      expectProblem(await sut.http.put(`/bindings/${inactive.id}`).send({ status: 'active' }), 409, 'conflict');
    });

    it.each([
      ['an unknown status', { status: 'enabled' }, 'status'],
      ['an uppercase provider', { provider: 'OpenAI' }, 'provider'],
      ['an empty provider_model_id', { provider_model_id: '' }, 'provider_model_id'],
      ['a provider_model_id with a newline', { provider_model_id: 'a\nb' }, 'provider_model_id'],
      ['an array config', { config: [1, 2] }, 'config'],
      ['a string config', { config: '{"a":1}' }, 'config'],
      ['a null config', { config: null }, 'config'],
      ['a config over 16 KiB', { config: { blob: 'x'.repeat(16 * 1024) } }, 'config'],
      ['an http endpoint that is not local', { endpoint_url: 'http://api.example.com/v1' }, 'endpoint_url'],
      ['an endpoint with credentials', { endpoint_url: 'https://user:pw@api.example.com' }, 'endpoint_url'],
      ['a ftp endpoint', { endpoint_url: 'ftp://example.com' }, 'endpoint_url'],
      ['a negative latency', { avg_latency_ms: -1 }, 'avg_latency_ms'],
      ['a success rate above 1', { success_rate: 1.5 }, 'success_rate'],
      ['last_used_at (server-managed)', { last_used_at: '2026-01-01T00:00:00Z' }, 'last_used_at'],
    ])('rejects %s with 400', async (_label, override, field) => {
      const problem = expectProblem(await sut.http.post('/bindings').send(makeBinding(versionId, override)), 400, 'validation-error');
      expect(problem.errors!.map((e) => e.field)).toContain(field);
    });

    it('accepts https endpoints anywhere and http on localhost', async () => {
      await sut.http.post('/bindings').send(makeBinding(versionId, { endpoint_url: 'https://example.openai.azure.com/openai' })).expect(201);
      await sut.http.post('/bindings').send(makeBinding(versionId, { endpoint_url: 'http://localhost:11434/api' })).expect(201);
    });

    it('a config with a NUL character is a 400, not a 500', async () => {
      expectProblem(await sut.http.post('/bindings').send(makeBinding(versionId, { config: { a: 'x\u0000y' } })), 400, 'validation-error');
    });
  });

  describe('GET, PUT, DELETE /bindings/{id}', () => {
    it('reads with ETag, updates partially (config replaced whole), deletes', async () => {
      const binding = await create(sut.http, '/bindings', makeBinding(versionId, { config: { a: 1, b: 2 } }));
      const read = await sut.http.get(`/bindings/${binding.id}`).expect(200);
      expect(read.body).toEqual(binding);
      await sut.http.get(`/bindings/${binding.id}`).set('If-None-Match', read.headers.etag).expect(304);
      const updated = await sut.http
        .put(`/bindings/${binding.id}`)
        .set('If-Match', read.headers.etag)
        .send({ config: { c: 3 }, status: 'deprecated', avg_latency_ms: 120.5, success_rate: 0.99, version_id: versionId })
        .expect(200);
      expect(updated.body).toMatchObject({ config: { c: 3 }, status: 'deprecated', avg_latency_ms: 120.5, success_rate: 0.99, provider: binding.provider });
      expectProblem(await sut.http.put(`/bindings/${binding.id}`).set('If-Match', read.headers.etag).send({ status: 'active' }), 412, 'precondition-failed');
      await sut.http.delete(`/bindings/${binding.id}`).expect(204);
      expectProblem(await sut.http.get(`/bindings/${binding.id}`), 404, 'not-found');
    });

    it('refuses to move a binding to another version', async () => {
      const binding = await create(sut.http, '/bindings', makeBinding(versionId));
      const problem = expectProblem(await sut.http.put(`/bindings/${binding.id}`).send({ version_id: versionId + 1000 }), 400, 'validation-error');
      expect(problem.errors![0].field).toBe('version_id');
    });
  });

  describe('GET /bindings', () => {
    let model: number;
    let ids: { v1a: number; v1b: number; v2a: number };

    beforeAll(async () => {
      model = (await create(sut.http, '/models', makeModel())).id;
      const v1 = (await create(sut.http, '/versions', makeVersion(model))).id;
      const v2 = (await create(sut.http, '/versions', makeVersion(model))).id;
      ids = {
        v1a: (await create(sut.http, '/bindings', makeBinding(v1, { provider: 'openai', avg_latency_ms: 300, success_rate: 0.9 }))).id,
        v1b: (await create(sut.http, '/bindings', makeBinding(v1, { provider: 'vertex', status: 'inactive', avg_latency_ms: 100 }))).id,
        v2a: (await create(sut.http, '/bindings', makeBinding(v2, { provider: 'bedrock', success_rate: 0.99 }))).id,
      };
    });

    const idsOf = async (query: Record<string, unknown>) => {
      const response = await sut.http.get('/bindings').query({ model_id: model, limit: 100, ...query }).expect(200);
      return response.body.items.map((b: { id: number }) => b.id);
    };

    it('filters by model, version, provider and status', async () => {
      expect(await idsOf({})).toEqual([ids.v2a, ids.v1b, ids.v1a]);
      expect(await idsOf({ provider: 'vertex' })).toEqual([ids.v1b]);
      expect(await idsOf({ status: 'active', sort: 'created_at' })).toEqual([ids.v1a, ids.v2a]);
      const { body } = await sut.http.get('/bindings').query({ version_id: (await sut.http.get(`/bindings/${ids.v2a}`)).body.version_id }).expect(200);
      expect(body.items.map((b: { id: number }) => b.id)).toEqual([ids.v2a]);
    });

    it('sorts by latency (missing last) and success rate (missing lowest), paging with a token', async () => {
      expect(await idsOf({ sort: 'avg_latency_ms' })).toEqual([ids.v1b, ids.v1a, ids.v2a]);
      expect(await idsOf({ sort: '-success_rate' })).toEqual([ids.v2a, ids.v1a, ids.v1b]);
      const first = await sut.http.get('/bindings').query({ model_id: model, sort: 'provider', limit: 2 }).expect(200);
      const second = await sut.http.get('/bindings').query({ model_id: model, sort: 'provider', limit: 2, page_token: first.body.next_page_token }).expect(200);
      expect([...first.body.items, ...second.body.items].map((b: { provider: string }) => b.provider)).toEqual(['bedrock', 'openai', 'vertex']);
      expect(second.body.next_page_token).toBeNull();
    });

    it('rejects an unknown status filter', async () => {
      expectProblem(await sut.http.get('/bindings').query({ status: 'on' }), 400, 'validation-error');
    });
  });
});
