import { Global, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { metrics } from '@opentelemetry/api';
import { HostMetrics } from '@opentelemetry/host-metrics';
import { MetricService } from 'nestjs-otel';
import { DatabaseTelemetry } from './database-telemetry';
import { HandlerSpanInterceptor } from './handler-span.interceptor';
import { MetricsController } from './metrics.controller';
import { hostMetricsEnabled, tracingEnabled } from './telemetry';

/**
 * Metrics endpoint, database and registry metrics, host metrics and (when tracing) handler spans.
 * nestjs-otel's MetricService is provided here directly rather than through its OpenTelemetryModule,
 * which applies a middleware to every route: through Fastify's middleware layer that cost the hot
 * path more than everything else telemetry does.
 */
@Global()
@Module({
  controllers: [MetricsController],
  providers: [
    MetricService,
    DatabaseTelemetry,
    // Only when tracing: an interceptor on every route is not free.
    ...(tracingEnabled() ? [{ provide: APP_INTERCEPTOR, useClass: HandlerSpanInterceptor }] : []),
  ],
  exports: [MetricService],
})
export class TelemetryModule implements OnApplicationBootstrap {
  onApplicationBootstrap(): void {
    if (hostMetricsEnabled()) new HostMetrics({ meterProvider: metrics.getMeterProvider(), name: 'host-metrics' }).start();
  }
}
