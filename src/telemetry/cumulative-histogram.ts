import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { AggregationTemporality, DataPointType, type CollectionResult, type HistogramMetricData, type MetricProducer } from '@opentelemetry/sdk-metrics';
import { emptyResource } from '@opentelemetry/resources';

interface Descriptor {
  /** The exported name, unit included (`http.server.request.duration.seconds` → `http_server_request_duration_seconds`). */
  name: string;
  description: string;
  unit: string;
}

/** Whether a reader collects the histograms (telemetry is on): until then records are dropped, as the API's no-op meter drops them. */
let collected = false;

/** One attribute set's cumulative buckets: bucket i counts values v with boundaries[i-1] < v <= boundaries[i]. */
export class Series {
  readonly counts: number[];
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  constructor(
    readonly attributes: Attributes,
    readonly startTime: HrTime,
    private readonly boundaries: readonly number[],
  ) {
    this.counts = new Array<number>(boundaries.length + 1).fill(0);
  }

  record(value: number): void {
    if (!collected || Number.isNaN(value)) return;
    this.count += 1;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    const boundaries = this.boundaries;
    let bucket = 0;
    while (bucket < boundaries.length && boundaries[bucket] < value) bucket++;
    this.counts[bucket] += 1;
  }
}

function hrNow(): HrTime {
  const ms = Date.now();
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6];
}

/**
 * A cumulative explicit-bucket histogram for the per-request instruments (HTTP request and database
 * query durations), exported through the Prometheus reader as an OpenTelemetry MetricProducer.
 *
 * Why not an SDK histogram: the SDK finds a record's series by hashing its attributes on every call
 * (sorting and JSON-serialising the keys), which cost a model read ~4 µs and ~1.9 KB of garbage for two
 * records. Here the caller names the series with a key it already has (the route, method and status;
 * the query's operation) and the attributes are built once per series. What GET /metrics shows is what
 * the SDK's histogram showed: same names, units, descriptions, boundaries, bucket rule (a value equal
 * to a boundary falls in that boundary's bucket), labels and label order.
 */
export class CumulativeHistogram {
  private readonly series = new Map<string, Series>();

  constructor(
    readonly descriptor: Descriptor,
    readonly boundaries: readonly number[],
  ) {}

  /** The series `key` names, or undefined until it is added. */
  get(key: string): Series | undefined {
    return this.series.get(key);
  }

  /**
   * Adds the series `key` with its attribute set (the key must identify the set; keys come from bounded
   * sets: route templates, status codes, methods, operations). Callers look a series up by a key they
   * already have and build attributes only the first time: `(h.get(key) ?? h.add(key, {...})).record(v)`.
   */
  add(key: string, attributes: Attributes): Series {
    let series = this.series.get(key);
    if (series === undefined) this.series.set(key, (series = new Series(attributes, hrNow(), this.boundaries)));
    return series;
  }

  /** The histogram as the SDK's collection would give it (cumulative: every series since the start). */
  collect(endTime: HrTime): HistogramMetricData {
    const boundaries = [...this.boundaries];
    return {
      descriptor: { ...this.descriptor, valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: [...this.series.values()].map((series) => ({
        attributes: series.attributes,
        startTime: series.startTime,
        endTime,
        value: { buckets: { boundaries, counts: [...series.counts] }, count: series.count, sum: series.sum, min: series.min, max: series.max },
      })),
    };
  }
}

/** Request duration buckets, in seconds: the OTel defaults plus finer ones for a fast API. */
const HTTP_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const DB_DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** `http_server_request_duration_seconds`: by method, route template and status. */
export const httpRequestDuration = new CumulativeHistogram(
  { name: 'http.server.request.duration.seconds', description: 'Duration of HTTP requests, by method, route template and status.', unit: 's' },
  HTTP_DURATION_BUCKETS,
);

/** `db_client_operation_duration_seconds`: by operation. */
export const dbOperationDuration = new CumulativeHistogram(
  { name: 'db.client.operation.duration.seconds', description: 'Duration of database queries, by operation.', unit: 's' },
  DB_DURATION_BUCKETS,
);

/** The service's meter scope: the data points carry it as `otel_scope_name`, as the SDK's instruments do. */
const SCOPE = { name: 'model-registry' };

const producer: MetricProducer = {
  collect: (): Promise<CollectionResult> => {
    const endTime = hrNow();
    return Promise.resolve({
      // A histogram with no series yet is left out, as the SDK leaves out an instrument never recorded.
      resourceMetrics: {
        resource: emptyResource(),
        scopeMetrics: [{ scope: SCOPE, metrics: [httpRequestDuration, dbOperationDuration].map((histogram) => histogram.collect(endTime)).filter((data) => data.dataPoints.length > 0) }],
      },
      errors: [],
    });
  },
};

/**
 * The histograms above as a MetricProducer, for the metric reader that serves GET /metrics (next to the
 * SDK's own metrics); from this call on they record.
 */
export function collectCumulativeHistograms(): MetricProducer {
  collected = true;
  return producer;
}
