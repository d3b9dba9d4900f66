import { registerAs } from '@nestjs/config';
import { parseEnvironment, type Environment } from './environment';

export function telemetryConfigFrom(env: Environment) {
  return {
    enabled: env.OTEL_ENABLED,
    serviceName: env.OTEL_SERVICE_NAME,
    /** Traces cost throughput, so they are exported only when an OTLP endpoint is configured. */
    tracing: env.OTEL_ENABLED && Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT),
  };
}

export const telemetryConfig = registerAs('telemetry', () => telemetryConfigFrom(parseEnvironment()));
export type TelemetryConfig = ReturnType<typeof telemetryConfigFrom>;
