import { registerAs } from '@nestjs/config';
import { parseEnvironment, type Environment } from './environment';

export function gatewayConfigFrom(env: Environment) {
  return {
    usageEwmaAlpha: env.USAGE_EWMA_ALPHA,
    resolveCacheMaxAgeS: env.RESOLVE_CACHE_MAX_AGE_S,
    resolveCache: env.RESOLVE_CACHE,
    resolveCacheMaxEntries: env.RESOLVE_CACHE_MAX_ENTRIES,
    resolveCacheTtlMs: env.RESOLVE_CACHE_TTL_MS,
    eventsRetentionDays: env.EVENTS_RETENTION_DAYS,
    eventsHoldWarnS: env.EVENTS_HOLD_WARN_S,
    eventsStreamHeartbeatS: env.EVENTS_STREAM_HEARTBEAT_S,
    eventsStreamMaxSubscribers: env.EVENTS_STREAM_MAX_SUBSCRIBERS,
  };
}

export const gatewayConfig = registerAs('gateway', () => gatewayConfigFrom(parseEnvironment()));
export type GatewayConfig = ReturnType<typeof gatewayConfigFrom>;
