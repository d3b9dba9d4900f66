import { registerAs } from '@nestjs/config';
import { parseEnvironment, type Environment } from './environment';

export function securityConfigFrom(env: Environment) {
  return {
    /** Off by default only for the zero-setup embedded database (a laptop); an explicit value wins. */
    authRequired: env.AUTH_REQUIRED ?? env.POSTGRES_HOST !== undefined,
    bootstrapKey: env.AUTH_BOOTSTRAP_KEY,
    oidc: env.AUTH_OIDC_ISSUER
      ? {
          issuer: env.AUTH_OIDC_ISSUER,
          audience: env.AUTH_OIDC_AUDIENCE!,
          jwksUri: env.AUTH_OIDC_JWKS_URI,
          scopesClaim: env.AUTH_OIDC_SCOPES_CLAIM,
          subjectScopes: env.AUTH_OIDC_SUBJECT_SCOPES,
        }
      : undefined,
    metricsToken: env.METRICS_TOKEN,
    auditRetentionDays: env.AUDIT_RETENTION_DAYS,
    rateLimit: {
      perMinute: env.RATE_LIMIT_PER_MINUTE,
      redisUrl: env.RATE_LIMIT_REDIS_URL,
      redisPrefix: env.RATE_LIMIT_REDIS_PREFIX,
    },
  };
}

export const securityConfig = registerAs('security', () => securityConfigFrom(parseEnvironment()));
export type SecurityConfig = ReturnType<typeof securityConfigFrom>;
export type OidcConfig = NonNullable<SecurityConfig['oidc']>;
