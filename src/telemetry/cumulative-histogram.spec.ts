import * as fc from 'fast-check';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { collectCumulativeHistograms, CumulativeHistogram } from './cumulative-histogram';

const BOUNDARIES = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const DESCRIPTION = 'Duration of HTTP requests, by method, route template and status.';

/** What GET /metrics would print for the SDK's histogram and for ours, given the same records. */
async function bothExpositions(records: { method: string; route: string; status: number; seconds: number }[]): Promise<[string, string]> {
  const exporter = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
  const provider = new MeterProvider({ readers: [exporter], views: [{ instrumentName: 'http.server.request.duration', name: 'http.server.request.duration.seconds' }] });
  const sdk = provider.getMeter('model-registry').createHistogram('http.server.request.duration', {
    description: DESCRIPTION,
    unit: 's',
    advice: { explicitBucketBoundaries: BOUNDARIES },
  });
  const ours = new CumulativeHistogram({ name: 'http.server.request.duration.seconds', description: DESCRIPTION, unit: 's' }, BOUNDARIES);
  for (const { method, route, status, seconds } of records) {
    sdk.record(seconds, { 'http.request.method': method, 'http.route': route, 'http.response.status_code': status });
    const key = `${status} ${method} ${route}`;
    (ours.get(key) ?? ours.add(key, { 'http.request.method': method, 'http.route': route, 'http.response.status_code': status })).record(seconds);
  }
  const serializer = new PrometheusSerializer();
  const { resourceMetrics } = await exporter.collect();
  const fromSdk = serializer.serialize({ resource: resourceMetrics.resource, scopeMetrics: resourceMetrics.scopeMetrics });
  const fromOurs = serializer.serialize({ resource: resourceMetrics.resource, scopeMetrics: [{ scope: { name: 'model-registry' }, metrics: [ours.collect([0, 0])] }] });
  await provider.shutdown();
  return [fromSdk, fromOurs];
}

describe('CumulativeHistogram', () => {
  beforeAll(() => collectCumulativeHistograms());

  it('exports exactly what the SDK histogram exports for the same records (any values, boundaries included)', async () => {
    const value = fc.oneof(fc.constantFrom(0, ...BOUNDARIES, 10.5, 1e-9), fc.double({ min: 0, max: 20, noNaN: true }));
    const record = fc.record({
      method: fc.constantFrom('GET', 'POST', 'HEAD'),
      route: fc.constantFrom('/models/:id', '/resolve/:name', '(unmatched)'),
      status: fc.constantFrom(200, 304, 404),
      seconds: value,
    });
    await fc.assert(
      fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 60 }), async (records) => {
        const [fromSdk, fromOurs] = await bothExpositions(records);
        expect(fromOurs).toEqual(fromSdk);
      }),
      { numRuns: 60 },
    );
  });

  it('puts a value equal to a boundary in that boundary bucket, and a value above every boundary in +Inf', () => {
    const histogram = new CumulativeHistogram({ name: 'h', description: 'd', unit: 's' }, [1, 2]);
    const series = histogram.add('k', { k: 'v' });
    for (const value of [0.5, 1, 1.5, 2, 3]) series.record(value);
    series.record(Number.NaN);
    const [point] = histogram.collect([1, 0]).dataPoints;
    expect(point.value).toEqual({ buckets: { boundaries: [1, 2], counts: [2, 2, 1] }, count: 5, sum: 8, min: 0.5, max: 3 });
    expect(point.attributes).toEqual({ k: 'v' });
    expect(histogram.get('k')).toBe(series);
    expect(histogram.add('k', { other: 'set' })).toBe(series);
  });
});
