import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

export interface TokenOptions {
  subject?: string;
  audience?: string;
  issuer?: string;
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
  claims?: JWTPayload;
  /** Sign with a key the JWKS does not publish, under the published key's id. */
  wrongKey?: boolean;
  /** A key id the JWKS does not know. */
  unknownKid?: boolean;
}

/**
 * An OpenID Connect issuer for tests: a real HTTP server with a discovery document and a JWKS of
 * freshly generated keys, and a signer for tokens, good or subtly bad.
 */
export class OidcIssuer {
  readonly audience = 'model-registry-test';
  requests = 0;
  private server?: Server;
  private key!: SigningKey;
  private stranger!: SigningKey;
  port = 0;

  get issuer(): string {
    return `http://127.0.0.1:${this.port}/issuer`;
  }

  async start(): Promise<void> {
    this.key = await signingKey('key-1');
    this.stranger = await signingKey('key-unpublished');
    this.server = createServer((request, response) => {
      this.requests++;
      const send = (body: unknown) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (request.url === '/issuer/.well-known/openid-configuration') send({ issuer: this.issuer, jwks_uri: `http://127.0.0.1:${this.port}/issuer/jwks` });
      else if (request.url === '/issuer/jwks') send({ keys: [this.key.jwk] });
      else {
        response.writeHead(404);
        response.end();
      }
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** Environment for a service that trusts this issuer. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return { AUTH_OIDC_ISSUER: this.issuer, AUTH_OIDC_AUDIENCE: this.audience, ...extra };
  }

  async token(options: TokenOptions = {}): Promise<string> {
    const key = options.wrongKey || options.unknownKid ? this.stranger : this.key;
    const kid = options.wrongKey ? this.key.kid : key.kid;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ ...options.claims })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
      .setIssuer(options.issuer ?? this.issuer)
      .setAudience(options.audience ?? this.audience)
      .setSubject(options.subject ?? 'repo:acme/ml-pipeline:ref:refs/heads/main')
      .setIssuedAt(now - 60)
      .setExpirationTime(now + (options.expiresIn ?? 600))
      .sign(key.privateKey);
  }
}
