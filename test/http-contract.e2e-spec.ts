import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { databaseConfigFrom } from '../src/config/database.config';
import { parseEnvironment } from '../src/config/environment';
import { dataSourceOptions } from '../src/database/data-source.options';
import { expectProblem } from './support/problem';
import { makeModel } from './support/factories';
import { createTestApp, type TestApp } from './support/test-app';
import { testServer } from './setup/test-database';

describe('HTTP contract (hostile input, headers, OpenAPI)', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await createTestApp('http-contract', { env: { CORS_ORIGINS: 'https://console.example.com' } });
  });
  afterAll(() => sut.close());

  describe('bad requests get a 4xx problem+json, never a 5xx', () => {
    it('malformed JSON → 400 malformed-request', async () => {
      const response = await sut.http.post('/models').set('Content-Type', 'application/json').send('{"name": "x",');
      expect(expectProblem(response, 400, 'malformed-request').detail).toBe('The request body is not valid JSON.');
    });

    it('an empty JSON body → 400', async () => {
      expectProblem(await sut.http.post('/models').set('Content-Type', 'application/json').send(''), 400, 'malformed-request');
    });

    it('an empty JSON body on a route that takes none is no body (clients that always send Content-Type)', async () => {
      const restore = await sut.http.post('/versions/987654321/restore').set('Content-Type', 'application/json').send('');
      expectProblem(restore, 404, 'not-found');
      expectProblem(await sut.http.delete('/models/987654321').set('Content-Type', 'application/json').send(''), 404, 'not-found');
      // Still parsed when there is something to parse: a body where none is expected is refused, never ignored silently.
      expectProblem(await sut.http.post('/versions/987654321/restore').set('Content-Type', 'application/json').send('{"x":'), 400, 'malformed-request');
    });

    it('a JSON array or scalar body → 400 validation-error', async () => {
      expectProblem(await sut.http.post('/models').send([makeModel()]), 400, 'validation-error');
      expectProblem(await sut.http.post('/models').set('Content-Type', 'application/json').send('42'), 400, 'validation-error');
      expectProblem(await sut.http.post('/models').set('Content-Type', 'application/json').send('null'), 400, 'validation-error');
    });

    it('prototype pollution attempts → 400', async () => {
      const response = await sut.http.post('/models').set('Content-Type', 'application/json').send('{"name":"x","task":"generation","__proto__":{"admin":true}}');
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/problem\+json/);
    });

    it('deeply nested JSON → 400, not a stack overflow', async () => {
      const body = `{"name":"x","task":"generation","description":${'['.repeat(3000)}${']'.repeat(3000)}}`;
      const problem = expectProblem(await sut.http.post('/models').set('Content-Type', 'application/json').send(body), 400, 'validation-error');
      expect(problem.errors).toEqual([{ field: '(body)', message: 'is nested more than 64 levels deep' }]);
    });

    it('unknown properties → 400 naming them', async () => {
      const problem = expectProblem(await sut.http.post('/models').send({ ...makeModel(), id: 5, created_at: 'x' }), 400, 'validation-error');
      expect(problem.errors!.map((e) => e.field).sort()).toEqual(['created_at', 'id']);
    });

    it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x'])('Content-Type %s → 415', async (type) => {
      const response = await sut.http.post('/models').set('Content-Type', type).send('name=x');
      expect(expectProblem(response, 415, 'unsupported-media-type').detail).toContain('application/json');
    });

    it('a body over 1 MiB → 413', async () => {
      const response = await sut.http.post('/models').send({ ...makeModel(), description: 'x'.repeat(1024 * 1024 + 10) });
      expectProblem(response, 413, 'payload-too-large');
    });

    it('an unknown route → 404 route-not-found', async () => {
      const problem = expectProblem(await sut.http.get('/no/such/route'), 404, 'route-not-found');
      expect(problem.instance).toBe('/no/such/route');
      expectProblem(await sut.http.patch('/models/1').send({}), 404, 'route-not-found');
    });

    it('a query string with a repeated parameter → 400', async () => {
      expectProblem(await sut.http.get('/models?limit=1&limit=2'), 400, 'validation-error');
    });

    it('strings with NUL characters → 400, not a 500 from the database', async () => {
      expectProblem(await sut.http.post('/models').send(makeModel({ description: 'nul\u0000byte' })), 400, 'constraint-violation');
    });
  });

  describe('headers', () => {
    it('echoes a sane X-Request-Id and replaces an unsafe one', async () => {
      const kept = await sut.http.get('/health/live').set('X-Request-Id', 'abc-123.def');
      expect(kept.headers['x-request-id']).toBe('abc-123.def');
      const replaced = await sut.http.get('/health/live').set('X-Request-Id', 'has spaces and <script>');
      expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      const generated = await sut.http.get('/health/live');
      expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('problem bodies carry the request id', async () => {
      const response = await sut.http.get('/models/999999').set('X-Request-Id', 'trace-me-1');
      expect(expectProblem(response, 404, 'not-found').request_id).toBe('trace-me-1');
    });

    it('sends security headers', async () => {
      const response = await sut.http.get('/health/live');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(response.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
      const docs = await sut.http.get('/docs').redirects(1);
      expect(docs.headers['content-security-policy']).toContain("script-src 'self' 'unsafe-inline'");
    });

    it('allows only the configured CORS origins', async () => {
      const allowed = await sut.http.options('/models').set('Origin', 'https://console.example.com').set('Access-Control-Request-Method', 'POST');
      expect(allowed.headers['access-control-allow-origin']).toBe('https://console.example.com');
      expect(allowed.headers['access-control-expose-headers']).toContain('ETag');
      const denied = await sut.http.get('/health/live').set('Origin', 'https://evil.example.com');
      expect(denied.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  describe('OpenAPI', () => {
    it('serves Swagger UI at /docs and the document at /docs-json', async () => {
      const ui = await sut.http.get('/docs').redirects(1);
      expect(ui.status).toBe(200);
      expect(ui.text).toContain('swagger-ui');
      const doc = await sut.http.get('/docs-json').expect(200);
      expect(doc.body.openapi).toMatch(/^3\./);
    });

    it('serves exactly the committed openapi.json', async () => {
      const served = (await sut.http.get('/docs-json').expect(200)).body;
      expect(served).toEqual(JSON.parse(readFileSync(path.resolve(__dirname, '..', 'openapi.json'), 'utf8')));
    });

    it('gives every operation a unique, explicit operationId and problem+json error responses', async () => {
      const doc = (await sut.http.get('/docs-json')).body as { paths: Record<string, Record<string, any>>; components: Record<string, Record<string, any>> };
      const resolve = (node: any): any => (node?.$ref ? resolve(doc.components[node.$ref.split('/')[2]][node.$ref.split('/')[3]]) : node);
      const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
      expect(operations.length).toBeGreaterThanOrEqual(20);
      const ids = operations.map(({ op }) => op.operationId as string);
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) expect(id).toMatch(/^[a-z][A-Za-z]+$/);
      for (const { path, method, op } of operations) {
        const errorStatuses = Object.keys(op.responses).filter((status) => Number(status) >= 400);
        expect({ path, method, errorStatuses: errorStatuses.length > 0 }).toEqual({ path, method, errorStatuses: true });
        for (const status of errorStatuses) {
          expect(Object.keys(resolve(op.responses[status]).content)).toEqual(['application/problem+json']);
        }
      }
      expect(doc.paths['/versions'].post.responses['200']).toBeDefined();
      expect(doc.paths['/versions'].post.responses['409']).toBeDefined();
    });

    it('documents the problem types it references', async () => {
      const list = await sut.http.get('/problems').expect(200);
      expect(list.body.map((p: { code: string }) => p.code)).toContain('validation-error');
      await sut.http.get('/problems/precondition-failed').expect(200);
      expectProblem(await sut.http.get('/problems/nope'), 404, 'not-found');
    });
  });

  describe('unexpected errors', () => {
    it('become a 500 with a generic detail and the request id, never SQL or a stack', async () => {
      await sut.db.query('ALTER TABLE models RENAME TO models_moved');
      try {
        const response = await sut.http.get('/models').set('X-Request-Id', 'boom-1');
        const problem = expectProblem(response, 500, 'internal-error');
        expect(problem.detail).toBe('An unexpected error occurred. Quote request id boom-1 when reporting it.');
        expect(JSON.stringify(problem)).not.toMatch(/models_moved|relation|does not exist/);
      } finally {
        await sut.db.query('ALTER TABLE models_moved RENAME TO models');
      }
    });
  });
});

describe('schema', () => {
  it('the entities match what the migrations build (no drift)', async () => {
    const server = testServer();
    const env = parseEnvironment({
      POSTGRES_HOST: server.host,
      POSTGRES_PORT: String(server.port),
      POSTGRES_USER: server.user,
      POSTGRES_PASSWORD: server.password,
      POSTGRES_DB: process.env.TEST_PG_TEMPLATE,
    });
    const dataSource = new DataSource(dataSourceOptions(databaseConfigFrom(env), 'drift-check'));
    await dataSource.initialize();
    try {
      const pending = await dataSource.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
    } finally {
      await dataSource.destroy();
    }
  });
});
