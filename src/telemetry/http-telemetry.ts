import { isSpanContextValid, metrics, trace, type Histogram } from '@opentelemetry/api';

/** Request duration buckets, in seconds: the OTel defaults plus finer ones for a fast API. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/**
 * HTTP telemetry for Fastify hooks: a duration histogram by method, route template and status
 * (`http_server_request_duration_seconds` in Prometheus), and, when tracing, the request id and route
 * on the server span. Nothing here may throw into a request.
 */
export class HttpTelemetry {
  private readonly duration: Histogram = metrics.getMeter('model-registry').createHistogram('http.server.request.duration', {
    description: 'Duration of HTTP requests, by method, route template and status.',
    unit: 's',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });

  onRequest(requestId: string): void {
    try {
      const span = trace.getActiveSpan();
      if (span?.isRecording()) span.setAttribute('http.request.id', requestId);
    } catch {
      // Telemetry never fails a request.
    }
  }

  /** Records the request; returns the trace id for the log line, when the request is traced. */
  onResponse(method: string, route: string | undefined, status: number, seconds: number): string | undefined {
    try {
      this.duration.record(seconds, { 'http.request.method': method, 'http.route': route ?? '(unmatched)', 'http.response.status_code': status });
      const span = trace.getActiveSpan();
      if (!span) return undefined;
      if (route && span.isRecording()) {
        span.setAttribute('http.route', route);
        span.updateName(`${method} ${route}`);
      }
      const context = span.spanContext();
      return isSpanContextValid(context) ? context.traceId : undefined;
    } catch {
      return undefined;
    }
  }
}
