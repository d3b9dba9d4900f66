import { InvalidEnvironmentError, parseEnvironment } from './environment';
import { databaseConfigFrom } from './database.config';

describe('parseEnvironment', () => {
  it('applies the brief\'s defaults when nothing is set', () => {
    const sut = parseEnvironment({});
    expect(sut).toMatchObject({
      HOST: '0.0.0.0',
      PORT: 8003,
      POSTGRES_PORT: 5432,
      POSTGRES_DB: 'model_registry',
      POSTGRES_USER: 'postgres',
      POSTGRES_PASSWORD: 'postgres',
      DB_POOL_SIZE: 10,
      OTEL_SERVICE_NAME: 'model-registry-svc',
      DEFAULT_RETENTION_COUNT: 3,
      CORS_ORIGINS: [],
    });
    expect(sut.POSTGRES_HOST).toBeUndefined();
  });

  it('treats an empty variable as unset', () => {
    expect(parseEnvironment({ PORT: '', POSTGRES_HOST: '  ' })).toMatchObject({ PORT: 8003, POSTGRES_HOST: undefined });
  });

  it('reports every bad value in one error, hiding secrets', () => {
    let error: unknown;
    try {
      parseEnvironment({ PORT: 'eighty', DB_POOL_SIZE: '0', DEFAULT_RETENTION_COUNT: '11', LOG_LEVEL: 'loud', CORS_ORIGINS: 'not-a-url', POSTGRES_SSL: 'maybe' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidEnvironmentError);
    const problems = (error as InvalidEnvironmentError).problems;
    expect(problems).toHaveLength(6);
    expect(problems).toContain('PORT must be an integer from 0 to 65535 (got "eighty")');
    expect(problems).toContain('DEFAULT_RETENTION_COUNT must be an integer from 1 to 10 (got "11")');
    expect((error as Error).message).toMatch(/^Invalid configuration: /);
  });

  it('has the resolve cache on, bounded, and the change feed\'s warning and stream settings by default; refuses out-of-range values', () => {
    expect(parseEnvironment({})).toMatchObject({
      RESOLVE_CACHE: true,
      RESOLVE_CACHE_MAX_ENTRIES: 10_000,
      RESOLVE_CACHE_TTL_MS: 5_000,
      EVENTS_HOLD_WARN_S: 30,
      EVENTS_STREAM_HEARTBEAT_S: 15,
      EVENTS_STREAM_MAX_SUBSCRIBERS: 5_000,
    });
    expect(parseEnvironment({ RESOLVE_CACHE: 'false' }).RESOLVE_CACHE).toBe(false);
    expect(() => parseEnvironment({ RESOLVE_CACHE_MAX_ENTRIES: '0', RESOLVE_CACHE_TTL_MS: '50', EVENTS_HOLD_WARN_S: '0', EVENTS_STREAM_HEARTBEAT_S: '301' })).toThrow(
      /RESOLVE_CACHE_MAX_ENTRIES .*RESOLVE_CACHE_TTL_MS .*EVENTS_HOLD_WARN_S .*EVENTS_STREAM_HEARTBEAT_S/,
    );
  });

  it('parses lists and booleans', () => {
    expect(parseEnvironment({ CORS_ORIGINS: 'https://a.example.com, http://localhost:3000', POSTGRES_SSL: 'true' })).toMatchObject({
      CORS_ORIGINS: ['https://a.example.com', 'http://localhost:3000'],
      POSTGRES_SSL: true,
    });
  });
});

describe('ARTIFACT_ROOTS', () => {
  const problemsOf = (raw: Record<string, string>) => {
    try {
      parseEnvironment(raw);
      return [];
    } catch (error) {
      return (error as InvalidEnvironmentError).problems;
    }
  };

  it('is empty by default: the service moves nothing', () => {
    expect(parseEnvironment({}).ARTIFACT_ROOTS).toEqual([]);
  });

  it('parses folders and names the bad entries', () => {
    expect(parseEnvironment({ ARTIFACT_ROOTS: 'file:///srv/models', ARCHIVE_STORAGE: 'file' }).ARTIFACT_ROOTS).toEqual([
      { scheme: 'file', prefix: 'file:///srv/models/', segments: ['srv', 'models'] },
    ]);
    expect(problemsOf({ ARTIFACT_ROOTS: 'file:///srv/%2e%2e/etc' })).toEqual([
      'ARTIFACT_ROOTS must be a comma-separated list of file:///folder/ or s3://bucket/prefix/ URIs ("file:///srv/%2e%2e/etc" has a ".." segment) (got "file:///srv/%2e%2e/etc")',
    ]);
  });

  it('may mix schemes (the issue\'s own example), and must stay out of the archive', () => {
    expect(problemsOf({ ARCHIVE_STORAGE: 'file', ARTIFACT_ROOTS: 'file:///srv/models/,s3://ml-artifacts/prod/' })).toEqual([]);
    expect(problemsOf({ ARCHIVE_STORAGE: 's3', ARCHIVE_BUCKET: 'vault', ARTIFACT_ROOTS: 'file:///srv/models/,s3://ml-artifacts/prod/' })).toEqual([]);
    expect(problemsOf({ ARCHIVE_STORAGE: 'file', ARCHIVE_DIR: '/srv/archive', ARTIFACT_ROOTS: 'file:///srv/archive/models' })).toEqual([
      'ARTIFACT_ROOTS must not lie inside the archive (file:///srv/archive/models/)',
    ]);
    expect(problemsOf({ ARCHIVE_STORAGE: 's3', ARCHIVE_BUCKET: 'vault', ARTIFACT_ROOTS: 's3://vault/models/' })).toEqual([
      'ARTIFACT_ROOTS must not lie inside the archive (s3://vault/models/)',
    ]);
    expect(problemsOf({ ARCHIVE_STORAGE: 's3', ARCHIVE_BUCKET: 'vault', ARCHIVE_KEY_PREFIX: 'archived/', ARTIFACT_ROOTS: 's3://vault/models/' })).toEqual([]);
    expect(problemsOf({ ARCHIVE_STORAGE: 'none', ARTIFACT_ROOTS: 's3://models/,file:///srv/' })).toEqual([]);
  });
});

describe('databaseConfigFrom', () => {
  it('uses the embedded server when POSTGRES_HOST is not set', () => {
    const sut = databaseConfigFrom(parseEnvironment({}), '/srv/app');
    expect(sut).toMatchObject({ host: '127.0.0.1', port: 54329, embedded: { dataDir: '/srv/app/.data/postgres', port: 54329 } });
  });

  it('uses the configured server and starts nothing when POSTGRES_HOST is set', () => {
    const sut = databaseConfigFrom(parseEnvironment({ POSTGRES_HOST: 'db', POSTGRES_PORT: '6543', DB_POOL_SIZE: '25' }));
    expect(sut).toMatchObject({ host: 'db', port: 6543, poolSize: 25 });
    expect(sut.embedded).toBeUndefined();
  });

  it('sends sessions to the main server unless a direct one is given, and prepares statements unless told not to', () => {
    expect(databaseConfigFrom(parseEnvironment({ POSTGRES_HOST: 'pgbouncer', POSTGRES_PORT: '6432' }))).toMatchObject({
      direct: { host: 'pgbouncer', port: 6432 },
      preparedStatements: true,
    });
    expect(
      databaseConfigFrom(parseEnvironment({ POSTGRES_HOST: 'pgbouncer', POSTGRES_PORT: '6432', POSTGRES_DIRECT_HOST: 'db-rw', POSTGRES_DIRECT_PORT: '5432', DB_PREPARED_STATEMENTS: 'false' })),
    ).toMatchObject({ host: 'pgbouncer', port: 6432, direct: { host: 'db-rw', port: 5432 }, preparedStatements: false });
    expect(databaseConfigFrom(parseEnvironment({ POSTGRES_HOST: 'db', POSTGRES_DIRECT_HOST: 'db-direct' })).direct).toEqual({ host: 'db-direct', port: 5432 });
  });

  it('uses the embedded server for sessions too when POSTGRES_HOST is not set', () => {
    expect(databaseConfigFrom(parseEnvironment({ POSTGRES_DIRECT_HOST: 'elsewhere' }), '/srv/app').direct).toEqual({ host: '127.0.0.1', port: 54329 });
  });

  it('rejects a direct port out of range', () => {
    expect(() => parseEnvironment({ POSTGRES_DIRECT_PORT: '70000' })).toThrow('POSTGRES_DIRECT_PORT must be an integer from 1 to 65535 (got "70000")');
  });
});
