import { registerAs } from '@nestjs/config';
import { parseEnvironment, type Environment } from './environment';

export function webhookConfigFrom(env: Environment) {
  return {
    /** Whether this replica dispatches the change feed and sends deliveries (the API works either way). */
    deliveryEnabled: env.WEBHOOK_DELIVERY_ENABLED,
    /** Development and tests only: private, loopback and link-local targets, and plain http, are allowed. */
    allowPrivateNetworks: env.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
    /** Keys that encrypt signing secrets at rest: the first encrypts, every one decrypts. */
    secretKeys: env.WEBHOOK_SECRET_KEY,
    caFile: env.WEBHOOK_CA_FILE,
    pollIntervalMs: env.WEBHOOK_POLL_INTERVAL_MS,
    concurrency: env.WEBHOOK_CONCURRENCY,
    timeoutMs: env.WEBHOOK_TIMEOUT_MS,
    leaseMs: env.WEBHOOK_LEASE_MS,
    retryScale: env.WEBHOOK_RETRY_SCALE,
    deliveryRetentionDays: env.WEBHOOK_DELIVERY_RETENTION_DAYS,
  };
}

export const webhookConfig = registerAs('webhook', () => webhookConfigFrom(parseEnvironment()));
export type WebhookConfig = ReturnType<typeof webhookConfigFrom>;
