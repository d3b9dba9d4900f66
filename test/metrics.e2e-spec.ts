import { create, makeModel, makeVersion } from './support/factories';
import { parsePrometheus, sampleValue } from './support/prometheus';
import { createTestApp, type TestApp } from './support/test-app';

describe('GET /metrics', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await createTestApp('metrics');
  });
  afterAll(() => sut.close());

  const scrape = async () => {
    const response = await sut.http.get('/metrics').expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheus(response.text);
  };
  const requestCount = (samples: ReturnType<typeof parsePrometheus>, route: string, status: string, method = 'GET') =>
    sampleValue(samples, 'http_server_request_duration_seconds_count', { http_request_method: method, http_route: route, http_response_status_code: status }) ?? 0;

  it('counts HTTP requests by method, route template and status in a duration histogram', async () => {
    const model = await create(sut.http, '/models', makeModel());
    const before = await scrape();
    for (let i = 0; i < 5; i++) await sut.http.get(`/models/${model.id}`).expect(200);
    for (let i = 0; i < 3; i++) await sut.http.get(`/models/${900000 + i}`).expect(404);
    await sut.http.get('/no/such/route').expect(404);
    await sut.http.post('/models').send(makeModel()).expect(201);
    const after = await scrape();

    expect(requestCount(after, '/models/:id', '200') - requestCount(before, '/models/:id', '200')).toBe(5);
    expect(requestCount(after, '/models/:id', '404') - requestCount(before, '/models/:id', '404')).toBe(3);
    expect(requestCount(after, '(unmatched)', '404') - requestCount(before, '(unmatched)', '404')).toBe(1);
    expect(requestCount(after, '/models', '201', 'POST') - requestCount(before, '/models', '201', 'POST')).toBe(1);
    // Templates, never raw paths.
    const routes = new Set(after.filter((s) => s.name.startsWith('http_server_request_duration')).map((s) => s.labels.http_route));
    expect([...routes].some((route) => /\/\d+/.test(route))).toBe(false);
    const buckets = after.filter((s) => s.name === 'http_server_request_duration_seconds_bucket' && s.labels.http_route === '/models/:id' && s.labels.http_response_status_code === '200');
    expect(buckets.find((b) => b.labels.le === '+Inf')?.value).toBe(requestCount(after, '/models/:id', '200'));
  });

  it('reports the connection pool, query durations and the registry', async () => {
    const model = await create(sut.http, '/models', makeModel());
    await create(sut.http, '/versions', makeVersion(model.id));
    const samples = await scrape();
    expect(sampleValue(samples, 'db_client_connection_max')).toBe(10);
    expect(sampleValue(samples, 'db_client_connection_count', { db_client_connection_state: 'idle' })).toEqual(expect.any(Number));
    expect(sampleValue(samples, 'db_client_connection_pending_requests')).toBe(0);
    expect(sampleValue(samples, 'db_client_operation_duration_seconds_count', { db_operation_name: 'SELECT' })).toBeGreaterThan(0);
    expect(sampleValue(samples, 'db_client_operation_duration_seconds_count', { db_operation_name: 'INSERT' })).toBeGreaterThan(0);

    const counts = (await sut.db.query(
      `SELECT (SELECT count(*) FROM models)::int AS models, (SELECT count(*) FROM model_versions WHERE archived_at IS NULL)::int AS live,
              (SELECT count(*) FROM provider_bindings WHERE status = 'active')::int AS active`,
    )).rows[0];
    expect(sampleValue(samples, 'registry_models')).toBe(counts.models);
    expect(sampleValue(samples, 'registry_versions', { state: 'live' })).toBe(counts.live);
    expect(sampleValue(samples, 'registry_bindings_active')).toBe(counts.active);
  });

  it('counts retention runs and what they archived, and exposes the last run time', async () => {
    const model = await create(sut.http, '/models', makeModel());
    for (let i = 0; i < 5; i++) await create(sut.http, '/versions', makeVersion(model.id));
    const before = await scrape();
    await sut.http.post('/retention/apply').send({ model_id: model.id }).expect(200);
    const after = await scrape();
    const runs = (s: typeof after) => sampleValue(s, 'retention_runs_total', { trigger: 'manual', status: 'succeeded', dry_run: 'false' }) ?? 0;
    expect(runs(after) - runs(before)).toBe(1);
    expect((sampleValue(after, 'retention_versions_archived_total') ?? 0) - (sampleValue(before, 'retention_versions_archived_total') ?? 0)).toBe(2);
    expect(sampleValue(after, 'retention_last_run_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 60);
  });
});
