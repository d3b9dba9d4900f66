import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { ApplicationError } from '../common/errors/application.error';
import { ApiProblemResponses } from '../common/openapi/api-problem-responses.decorator';
import { headerRef } from '../common/openapi/standard-components';
import { prometheusExporter } from './telemetry';
import { MetricsAccess } from '../common/auth/access.decorator';

@ApiTags('monitoring')
@Controller('metrics')
export class MetricsController {
  private readonly serializer = new PrometheusSerializer();

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('cache-control', 'no-store')
  @MetricsAccess()
  @ApiOperation({
    operationId: 'getMetrics',
    summary: 'Prometheus metrics (text exposition format)',
    description: 'Request durations by route, the connection pool, PostgreSQL query durations, retention and runtime figures. A 404 when metrics are disabled (OTEL_ENABLED=false).',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Metrics in the Prometheus text format.',
    schema: { type: 'string', example: '# TYPE http_server_request_duration_seconds histogram' },
    headers: { 'Cache-Control': headerRef('Cache-Control') },
  })
  @ApiProblemResponses(404)
  async getMetrics(): Promise<string> {
    const exporter = prometheusExporter();
    if (!exporter) throw new ApplicationError('not-found', 'Metrics are disabled (OTEL_ENABLED=false).');
    const { resourceMetrics } = await exporter.collect();
    return this.serializer.serialize(resourceMetrics);
  }
}
