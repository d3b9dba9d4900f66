import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { ServiceUnavailableError } from '../common/errors/application.error';
import type { Principal } from '../common/auth/principal';
import { isScope, type Scope } from '../config/scopes';
import { securityConfig, type OidcConfig } from '../config/security.config';

/** Asymmetric algorithms only: a token signed with a shared secret (HS256) or none is refused. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const CLOCK_TOLERANCE_S = 30;
const MAX_SUBJECT_LENGTH = 255;
/** Verified tokens are remembered (until they expire, at most a minute) so a busy client costs one signature check a minute. */
const VERIFIED_TTL_MS = 60_000;
const MAX_VERIFIED = 2_000;
const DISCOVERY_RETRY_MS = 5_000;

export type TokenFailure = 'invalid' | 'expired';

/** `*` any run of characters (including `:` and `/`), `?` one; everything else literal. */
export function subjectPatternRegExp(pattern: string): RegExp {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\/-]/g, (m) => `\\${m}`)))
    .join('');
  return new RegExp(`^${source}$`, 's');
}

/** Scopes from the token's claim (a space-separated string or an array) and from subject rules. */
export function scopesFor(payload: JWTPayload, config: Pick<OidcConfig, 'scopesClaim' | 'subjectScopes'>): Set<Scope> {
  const scopes = new Set<Scope>();
  const claim = payload[config.scopesClaim];
  const claimed = typeof claim === 'string' ? claim.split(/\s+/) : Array.isArray(claim) ? claim : [];
  for (const scope of claimed) if (isScope(scope)) scopes.add(scope);
  for (const rule of config.subjectScopes) {
    if (payload.sub !== undefined && subjectPatternRegExp(rule.pattern).test(payload.sub)) for (const scope of rule.scopes) if (isScope(scope)) scopes.add(scope);
  }
  return scopes;
}

/**
 * Bearer JWTs from an OpenID Connect issuer (a CI system's workload identity, a company IdP). The
 * JWKS comes from the issuer's discovery document (or AUTH_OIDC_JWKS_URI) and is cached by `jose`,
 * which fetches it again when a token names a key id it does not know (at most every 30 s).
 */
@Injectable()
export class OidcVerifier {
  private readonly logger = new Logger(OidcVerifier.name);
  private jwks?: ReturnType<typeof createRemoteJWKSet>;
  private discovery?: Promise<ReturnType<typeof createRemoteJWKSet>>;
  private discoveryFailedAt = 0;
  private readonly verified = new Map<string, { principal: Principal; until: number }>();
  private readonly config?: OidcConfig;

  constructor(@Inject(securityConfig.KEY) security: ConfigType<typeof securityConfig>) {
    this.config = security.oidc;
    if (this.config?.jwksUri) this.jwks = this.remoteJwks(this.config.jwksUri);
  }

  get enabled(): boolean {
    return this.config !== undefined;
  }

  async verify(token: string, now = Date.now()): Promise<Principal | TokenFailure> {
    const config = this.config;
    if (!config) return 'invalid';
    const cached = this.verified.get(token);
    if (cached && cached.until > now) return cached.principal;
    const jwks = this.jwks ?? (await this.discover(config));
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, { issuer: config.issuer, audience: config.audience, algorithms: ALGORITHMS, clockTolerance: CLOCK_TOLERANCE_S }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) return 'expired';
      if (error instanceof errors.JWKSTimeout || !(error instanceof errors.JOSEError) || error.code === 'ERR_JOSE_GENERIC') {
        this.logger.warn({ reason: error instanceof Error ? error.message : String(error) }, 'cannot fetch the OIDC issuer\'s keys');
        throw new ServiceUnavailableError('The identity provider\'s signing keys cannot be fetched. Retry shortly.');
      }
      return 'invalid';
    }
    if (typeof payload.sub !== 'string' || payload.sub === '' || payload.sub.length > MAX_SUBJECT_LENGTH) return 'invalid';
    const principal: Principal = {
      kind: 'oidc',
      actor: `oidc:${payload.sub}`,
      keyId: null,
      name: null,
      subject: payload.sub,
      scopes: scopesFor(payload, config),
      models: null,
      expiresAt: payload.exp !== undefined ? new Date(payload.exp * 1000) : null,
    };
    if (this.verified.size >= MAX_VERIFIED) this.verified.clear();
    this.verified.set(token, { principal, until: Math.min(now + VERIFIED_TTL_MS, principal.expiresAt?.getTime() ?? Infinity) });
    return principal;
  }

  private remoteJwks(uri: string) {
    return createRemoteJWKSet(new URL(uri), { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
  }

  /** The issuer's discovery document names its JWKS; fetched once (retried after a failure). */
  private discover(config: OidcConfig): Promise<ReturnType<typeof createRemoteJWKSet>> {
    if (!this.discovery) {
      if (Date.now() - this.discoveryFailedAt < DISCOVERY_RETRY_MS) {
        return Promise.reject(new ServiceUnavailableError('The identity provider cannot be reached. Retry shortly.'));
      }
      const url = `${config.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
      this.discovery = fetch(url, { signal: AbortSignal.timeout(5_000), redirect: 'error' })
        .then(async (response) => {
          if (!response.ok) throw new Error(`${url} answered ${response.status}`);
          const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
          if (document.issuer !== config.issuer) throw new Error(`${url} names issuer ${JSON.stringify(document.issuer)}, not ${config.issuer}`);
          if (typeof document.jwks_uri !== 'string') throw new Error(`${url} has no jwks_uri`);
          this.jwks = this.remoteJwks(document.jwks_uri);
          return this.jwks;
        })
        .catch((error: unknown) => {
          this.discovery = undefined;
          this.discoveryFailedAt = Date.now();
          this.logger.warn({ reason: error instanceof Error ? error.message : String(error) }, 'OIDC discovery failed');
          throw new ServiceUnavailableError('The identity provider cannot be reached. Retry shortly.');
        });
    }
    return this.discovery;
  }
}
