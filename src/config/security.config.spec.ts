import { InvalidEnvironmentError, parseEnvironment } from './environment';
import { appConfigFrom } from './app.config';
import { securityConfigFrom } from './security.config';

const problemsOf = (raw: Record<string, string>): string[] => {
  try {
    parseEnvironment(raw);
    return [];
  } catch (error) {
    return (error as InvalidEnvironmentError).problems;
  }
};

describe(securityConfigFrom.name, () => {
  it('requires authentication with an external database and not with the embedded one, unless told', () => {
    expect(securityConfigFrom(parseEnvironment({ POSTGRES_HOST: 'db' })).authRequired).toBe(true);
    expect(securityConfigFrom(parseEnvironment({})).authRequired).toBe(false);
    expect(securityConfigFrom(parseEnvironment({ POSTGRES_HOST: 'db', AUTH_REQUIRED: 'false' })).authRequired).toBe(false);
    expect(securityConfigFrom(parseEnvironment({ AUTH_REQUIRED: 'true' })).authRequired).toBe(true);
  });

  it('has the documented defaults', () => {
    const env = parseEnvironment({});
    expect(securityConfigFrom(env)).toMatchObject({ bootstrapKey: undefined, oidc: undefined, metricsToken: undefined, auditRetentionDays: 365, rateLimit: { perMinute: 6000, redisUrl: undefined } });
    expect(appConfigFrom(env)).toMatchObject({ requestTimeoutMs: 30_000, trustProxy: false });
  });

  it('parses OIDC settings and subject rules', () => {
    const sut = securityConfigFrom(
      parseEnvironment({
        AUTH_OIDC_ISSUER: 'https://token.actions.githubusercontent.com',
        AUTH_OIDC_AUDIENCE: 'model-registry',
        AUTH_OIDC_SUBJECT_SCOPES: 'repo:acme/ml-pipeline:*=registry:write,usage:report; user:*=registry:read',
      }),
    );
    expect(sut.oidc).toEqual({
      issuer: 'https://token.actions.githubusercontent.com',
      audience: 'model-registry',
      jwksUri: undefined,
      scopesClaim: 'scope',
      subjectScopes: [
        { pattern: 'repo:acme/ml-pipeline:*', scopes: ['registry:write', 'usage:report'] },
        { pattern: 'user:*', scopes: ['registry:read'] },
      ],
    });
  });

  it('parses TRUST_PROXY as a flag, a hop count or a list of addresses', () => {
    expect(parseEnvironment({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(parseEnvironment({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(parseEnvironment({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).TRUST_PROXY).toEqual(['10.0.0.0/8', '127.0.0.1']);
  });

  it('refuses bad values, naming each and hiding secrets', () => {
    const problems = problemsOf({
      AUTH_BOOTSTRAP_KEY: 'too-short-secret',
      METRICS_TOKEN: 'short',
      AUTH_REQUIRED: 'sometimes',
      RATE_LIMIT_PER_MINUTE: '-1',
      RATE_LIMIT_REDIS_URL: 'http://redis:6379',
      REQUEST_TIMEOUT_MS: '5',
      TRUST_PROXY: 'everyone',
      AUTH_OIDC_SUBJECT_SCOPES: 'repo:x=registry:delete',
    });
    expect(problems).toHaveLength(8);
    expect(problems).toContain('AUTH_BOOTSTRAP_KEY must be a secret of at least 32 printable characters without spaces (got <hidden>)');
    expect(problems.join(' ')).not.toMatch(/too-short-secret|short"/);
    expect(problems).toContain('RATE_LIMIT_REDIS_URL must be a URL (redis:// or rediss://…) (got <hidden>)');
  });

  it('needs an audience with an issuer, and an issuer for the other OIDC settings', () => {
    expect(problemsOf({ AUTH_OIDC_ISSUER: 'https://issuer.example.com' })).toEqual([expect.stringMatching(/^AUTH_OIDC_AUDIENCE must be set/)]);
    expect(problemsOf({ AUTH_OIDC_JWKS_URI: 'https://issuer.example.com/jwks' })).toEqual(['AUTH_OIDC_JWKS_URI needs AUTH_OIDC_ISSUER']);
    expect(problemsOf({ AUTH_OIDC_SUBJECT_SCOPES: 'user:*=registry:read' })).toEqual(['AUTH_OIDC_SUBJECT_SCOPES needs AUTH_OIDC_ISSUER']);
  });
});
