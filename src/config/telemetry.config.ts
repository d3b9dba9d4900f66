import { registerAs } from '@nestjs/config';
import { parseEnvironment, type Environment } from './environment';

export function telemetryConfigFrom(env: Environment) {
  return { serviceName: env.OTEL_SERVICE_NAME };
}

export const telemetryConfig = registerAs('telemetry', () => telemetryConfigFrom(parseEnvironment()));
export type TelemetryConfig = ReturnType<typeof telemetryConfigFrom>;
