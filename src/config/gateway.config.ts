import { registerAs } from '@nestjs/config';
import { parseEnvironment, type Environment } from './environment';

export function gatewayConfigFrom(env: Environment) {
  return {
    usageEwmaAlpha: env.USAGE_EWMA_ALPHA,
    resolveCacheMaxAgeS: env.RESOLVE_CACHE_MAX_AGE_S,
    eventsRetentionDays: env.EVENTS_RETENTION_DAYS,
  };
}

export const gatewayConfig = registerAs('gateway', () => gatewayConfigFrom(parseEnvironment()));
export type GatewayConfig = ReturnType<typeof gatewayConfigFrom>;
