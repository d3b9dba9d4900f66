import { isSpanContextValid, trace } from '@opentelemetry/api';
import { httpRequestDuration, type Series } from './cumulative-histogram';

/**
 * HTTP telemetry for Fastify hooks: a duration histogram by method, route template and status
 * (`http_server_request_duration_seconds` in Prometheus), and, when tracing, the request id and route
 * on the server span. Nothing here may throw into a request.
 */
export class HttpTelemetry {
  /**
   * The histogram's series by method, route template and status: strings Node and Fastify hand out as
   * the same objects every time (their hashes are cached), so finding a series builds no key.
   */
  private readonly series = new Map<string, Map<string, Map<number, Series>>>();

  /** `tracing`: spans are recorded (an OTLP endpoint is configured); without it no request has a span. */
  constructor(private readonly tracing: boolean) {}

  onRequest(requestId: string): void {
    if (!this.tracing) return;
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
      this.seriesOf(method, route ?? '(unmatched)', status).record(seconds);
      if (!this.tracing) return undefined;
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

  private seriesOf(method: string, template: string, status: number): Series {
    let byRoute = this.series.get(method);
    if (byRoute === undefined) this.series.set(method, (byRoute = new Map()));
    let byStatus = byRoute.get(template);
    if (byStatus === undefined) byRoute.set(template, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (series === undefined) {
      const attributes = { 'http.request.method': method, 'http.route': template, 'http.response.status_code': status };
      byStatus.set(status, (series = httpRequestDuration.add(`${status} ${method} ${template}`, attributes)));
    }
    return series;
  }
}
