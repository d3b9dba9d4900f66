import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { Principal } from '../common/auth/principal';
import { SCOPES } from '../config/scopes';
import { securityConfig } from '../config/security.config';
import { API_KEY_TAG, hashApiKey, sameDigest } from './api-key-format';
import { ApiKeyCache } from './api-key.cache';
import { OidcVerifier } from './oidc.verifier';

export type AuthFailure = 'missing' | 'malformed' | 'unknown' | 'revoked' | 'expired' | 'invalid';

export const AUTH_FAILURE_DETAILS: Record<AuthFailure, string> = {
  missing: 'Authentication required: send Authorization: Bearer <API key or OIDC token>.',
  malformed: 'The Authorization header is malformed: expected "Bearer <token>".',
  unknown: 'The API key is not valid.',
  revoked: 'The API key has been revoked.',
  expired: 'The credentials have expired.',
  invalid: 'The token could not be verified (signature, issuer, audience or format).',
};

const BEARER = /^Bearer +(\S{1,8192}) *$/i;
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export const ANONYMOUS: Principal = {
  kind: 'anonymous',
  actor: 'anonymous',
  keyId: null,
  name: null,
  subject: null,
  scopes: new Set(SCOPES),
  models: null,
  expiresAt: null,
};

const BOOTSTRAP: Principal = { ...ANONYMOUS, kind: 'bootstrap', actor: 'bootstrap', scopes: new Set(['admin']) };
/** Holds METRICS_TOKEN: no scope, so it opens /metrics and nothing else. */
export const METRICS_PRINCIPAL: Principal = { ...ANONYMOUS, kind: 'metrics', actor: 'metrics', scopes: new Set() };

/**
 * Turns an Authorization header into a principal: the bootstrap admin key or the metrics token from
 * configuration, an API key (`mrk_…`), or an OIDC JWT. Secrets from configuration are compared as
 * SHA-256 digests in constant time.
 */
@Injectable()
export class Authenticator {
  private readonly bootstrapDigest?: Buffer;
  private readonly metricsDigest?: Buffer;

  constructor(
    private readonly keys: ApiKeyCache,
    private readonly oidc: OidcVerifier,
    @Inject(securityConfig.KEY) config: ConfigType<typeof securityConfig>,
  ) {
    this.bootstrapDigest = config.bootstrapKey ? hashApiKey(config.bootstrapKey) : undefined;
    this.metricsDigest = config.metricsToken ? hashApiKey(config.metricsToken) : undefined;
  }

  /** Without an Authorization header (or with an empty one) there is nothing to verify: known at once. */
  absent(header: string | undefined): header is undefined | '' {
    return header === undefined || header === '';
  }

  async authenticate(header: string | undefined): Promise<Principal | AuthFailure> {
    if (this.absent(header)) return 'missing';
    const token = BEARER.exec(header)?.[1];
    if (!token) return 'malformed';
    // One digest serves every comparison: the configured secrets and the stored key hashes.
    const digest = hashApiKey(token);
    if (this.bootstrapDigest && sameDigest(digest, this.bootstrapDigest)) return BOOTSTRAP;
    if (this.metricsDigest && sameDigest(digest, this.metricsDigest)) return METRICS_PRINCIPAL;
    if (token.startsWith(API_KEY_TAG)) return this.keys.verify(token, digest);
    if (JWT.test(token)) return this.oidc.verify(token);
    return 'invalid';
  }
}
