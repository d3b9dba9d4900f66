import { ewmaSequential } from '../src/bindings/usage';
import { expectProblem } from './support/problem';
import { create, makeBinding, makeModel, makeVersion } from './support/factories';
import { createTestApp, type TestApp } from './support/test-app';

const ALPHA = 0.2;

describe('POST /bindings/{id}/usage', () => {
  let sut: TestApp;
  let versionId: number;

  beforeAll(async () => {
    sut = await createTestApp('usage', { env: { USAGE_EWMA_ALPHA: String(ALPHA) } });
    const model = await create(sut.http, '/models', makeModel());
    versionId = (await create(sut.http, '/versions', makeVersion(model.id))).id;
  });
  afterAll(() => sut.close());

  it('initialises the averages with the first sample and records when the binding was used', async () => {
    const binding = await create(sut.http, '/bindings', makeBinding(versionId));
    const response = await sut.http.post(`/bindings/${binding.id}/usage`).send({ latency_ms: 300, success: true }).expect(200);
    expect(response.body).toMatchObject({ id: binding.id, avg_latency_ms: 300, success_rate: 1, usage_samples: 1, updated_at: binding.updated_at });
    expect(Date.now() - new Date(response.body.last_used_at).getTime()).toBeLessThan(60_000);
    const second = await sut.http.post(`/bindings/${binding.id}/usage`).send({ latency_ms: 100, success: false }).expect(200);
    expect(second.body.avg_latency_ms).toBeCloseTo(ewmaSequential(ALPHA, 300, [100])!, 9);
    expect(second.body.success_rate).toBeCloseTo(ewmaSequential(ALPHA, 1, [0])!, 9);
  });

  it('folds a batch exactly as its samples one by one; samples without latency count for success only', async () => {
    const binding = await create(sut.http, '/bindings', makeBinding(versionId, { avg_latency_ms: 200, success_rate: 0.5 }));
    const samples = [
      { latency_ms: 120, success: true },
      { success: false },
      { latency_ms: 480.5, success: true },
      { latency_ms: 90, success: true },
    ];
    const response = await sut.http.post(`/bindings/${binding.id}/usage`).send({ samples }).expect(200);
    expect(response.body.avg_latency_ms).toBeCloseTo(ewmaSequential(ALPHA, 200, [120, 480.5, 90])!, 9);
    expect(response.body.success_rate).toBeCloseTo(ewmaSequential(ALPHA, 0.5, [1, 0, 1, 1])!, 9);
    expect(response.body.usage_samples).toBe(4);
  });

  it('100 concurrent reporters lose no sample: the result is the sequential one, in the order the database applied them', async () => {
    const binding = await create(sut.http, '/bindings', makeBinding(versionId));
    const reports = Array.from({ length: 100 }, (_, i) => ({
      samples: Array.from({ length: 1 + (i % 3) }, (_, j) => ({ latency_ms: 10 + ((i * 37 + j * 11) % 500), success: (i + j) % 4 !== 0 })),
    }));
    const responses = await Promise.all(reports.map((report) => sut.http.post(`/bindings/${binding.id}/usage`).send(report)));
    expect(responses.every((r) => r.status === 200)).toBe(true);

    // Each answer carries the running sample count after its update: that is the order of application.
    const applied = responses.map((r, i) => ({ after: r.body.usage_samples as number, report: reports[i] })).sort((a, b) => a.after - b.after);
    const total = reports.reduce((n, r) => n + r.samples.length, 0);
    expect(applied[applied.length - 1].after).toBe(total);
    expect(new Set(applied.map((a) => a.after)).size).toBe(100);
    const ordered = applied.flatMap((a) => a.report.samples);
    const { rows } = await sut.db.query('SELECT avg_latency_ms, success_rate, usage_samples FROM provider_bindings WHERE id = $1', [binding.id]);
    expect(Number(rows[0].usage_samples)).toBe(total);
    expect(rows[0].avg_latency_ms).toBeCloseTo(ewmaSequential(ALPHA, null, ordered.map((s) => s.latency_ms))!, 6);
    expect(rows[0].success_rate).toBeCloseTo(ewmaSequential(ALPHA, null, ordered.map((s) => (s.success ? 1 : 0)))!, 6);
  });

  it.each([
    ['a single sample without success', { latency_ms: 10 }, 'success'],
    ['a single sample and a batch together', { latency_ms: 10, success: true, samples: [{ success: true }] }, 'latency_ms'],
    ['an empty batch', { samples: [] }, 'samples'],
    ['a batch over 1,000', { samples: Array.from({ length: 1001 }, () => ({ success: true })) }, 'samples'],
    ['a sample without success', { samples: [{ success: true }, { latency_ms: 5 }] }, 'samples[1].success'],
    ['a negative latency', { latency_ms: -1, success: true }, 'latency_ms'],
    ['a string success', { success: 'true' }, 'success'],
    ['an empty body', {}, 'success'],
  ])('rejects %s with 400', async (_label, body, field) => {
    const binding = await create(sut.http, '/bindings', makeBinding(versionId));
    const problem = expectProblem(await sut.http.post(`/bindings/${binding.id}/usage`).send(body), 400, 'validation-error');
    expect(problem.errors!.map((e) => e.field)).toContain(field);
  });

  it('answers 404 for a binding that does not exist', async () => {
    expectProblem(await sut.http.post('/bindings/999999/usage').send({ success: true }), 404, 'not-found');
  });
});
