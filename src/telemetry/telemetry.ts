import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { RuntimeNodeInstrumentation } from '@opentelemetry/instrumentation-runtime-node';
import { envDetector, hostDetector, osDetector, resourceFromAttributes, serviceInstanceIdDetector } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { TelemetryConfig } from '../config/telemetry.config';
import { collectCumulativeHistograms } from './cumulative-histogram';

let prometheus: PrometheusExporter | undefined;
let hostMetrics = false;
let tracing = false;

/** Whether spans are recorded and exported (an OTLP endpoint is configured). */
export function tracingEnabled(): boolean {
  return tracing;
}

/** Process and host metrics run with the SDK (not in tests, where each app would start another set). */
export function hostMetricsEnabled(): boolean {
  return hostMetrics;
}

/** The reader behind GET /metrics, or undefined when telemetry is off. */
export function prometheusExporter(): PrometheusExporter | undefined {
  return prometheus;
}

/**
 * Prometheus convention: the unit in the name (the exporter does not append it). The request and query
 * duration histograms are named so where they are made (cumulative-histogram.ts).
 */
const VIEWS = [
  { instrumentName: 'retention.last_run.timestamp', name: 'retention.last_run.timestamp.seconds' },
  { instrumentName: 'webhook.delivery.lag', name: 'webhook.delivery.lag.seconds' },
  { instrumentName: 'webhook.delivery.duration', name: 'webhook.delivery.duration.seconds' },
  { instrumentName: 'webhook.deliveries.oldest_pending.age', name: 'webhook.deliveries.oldest_pending.age.seconds' },
];

/** The reader behind GET /metrics: the SDK's instruments and the per-request duration histograms. */
const createPrometheusExporter = () => new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true, metricProducers: [collectCumulativeHistograms()] });

/**
 * The process is described by its pid and runtime only. OpenTelemetry's process detector would add the
 * command line, executable path and owner, which GET /metrics (target_info) and every exported span
 * would then show to anyone who can read them.
 */
const resource = (serviceName: string) =>
  resourceFromAttributes({
    'service.name': serviceName,
    'service.version': process.env.npm_package_version ?? '0.1.0',
    'process.pid': process.pid,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
  });

/** Every default detector except the process detector (see above); set explicitly, so OTEL_NODE_RESOURCE_DETECTORS cannot bring it back. */
const RESOURCE_DETECTORS = [envDetector, hostDetector, osDetector, serviceInstanceIdDetector];

/**
 * Starts OpenTelemetry before anything else is loaded (so http and pg can be instrumented). Metrics
 * are always on (they cost nothing measurable) and read by GET /metrics; traces, with HTTP and pg
 * spans, only when an OTLP endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT; sampling through the
 * standard OTEL_TRACES_SAMPLER variables). Telemetry failures are reported by the SDK, never thrown
 * into requests.
 */
export function startTelemetry(config: TelemetryConfig): NodeSDK | undefined {
  if (!config.enabled) return undefined;
  prometheus = createPrometheusExporter();
  hostMetrics = true;
  tracing = config.tracing;
  const sdk = new NodeSDK({
    resource: resource(config.serviceName),
    resourceDetectors: RESOURCE_DETECTORS,
    metricReaders: [prometheus],
    views: VIEWS,
    ...(config.tracing ? { traceExporter: new OTLPTraceExporter() } : { spanProcessors: [] }),
    logRecordProcessors: [],
    instrumentations: [
      new RuntimeNodeInstrumentation(),
      ...(config.tracing
        ? [
            new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => request.url === '/metrics' || request.url?.startsWith('/health') === true }),
            new PgInstrumentation({ requireParentSpan: false }),
          ]
        : []),
    ],
  });
  sdk.start();
  return sdk;
}

/**
 * Metrics without the SDK: for tests, which load modules through jest's registry where the SDK's
 * instrumentations cannot patch anything. Installs the global meter provider once per process.
 */
export function startMetricsOnly(serviceName: string): void {
  if (prometheus) return;
  prometheus = createPrometheusExporter();
  metrics.setGlobalMeterProvider(new MeterProvider({ resource: resource(serviceName), readers: [prometheus], views: VIEWS }));
}
