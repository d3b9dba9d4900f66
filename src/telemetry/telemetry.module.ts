import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { OpenTelemetryModule } from 'nestjs-otel';
import { DatabaseTelemetry } from './database-telemetry';
import { HandlerSpanInterceptor } from './handler-span.interceptor';
import { MetricsController } from './metrics.controller';
import { hostMetricsEnabled } from './telemetry';

@Module({
  imports: [OpenTelemetryModule.forRootAsync({ useFactory: () => ({ metrics: { hostMetrics: hostMetricsEnabled() } }) })],
  controllers: [MetricsController],
  providers: [DatabaseTelemetry, { provide: APP_INTERCEPTOR, useClass: HandlerSpanInterceptor }],
})
export class TelemetryModule {}
