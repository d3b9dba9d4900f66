import type { RouteAccess } from '../src/common/auth/access.decorator';
import { SCOPES, type Scope } from '../src/config/scopes';
import { AuthHooks, type RouteDescription } from '../src/auth/auth.hooks';
import { authEnv, bearer, BOOTSTRAP_KEY, createKey } from './support/auth';
import { makeBinding, makeModel, makeVersion } from './support/factories';
import { OidcIssuer } from './support/oidc-issuer';
import { expectProblem } from './support/problem';
import { createTestApp, type TestApp } from './support/test-app';

const METRICS_TOKEN = 'metrics-token-for-the-matrix-0123';
const RESTRICTED_TO = ['team-a-*'];

/** A credential of the matrix, and what the service should make of it. */
interface Credential {
  name: string;
  header?: string;
  /** undefined: refused as unauthenticated (401). */
  scopes?: Scope[];
  restricted?: boolean;
  metrics?: boolean;
}

type Expected = 'success' | 401 | 403;

function expectedOutcome(access: RouteAccess, credential: Credential): Expected {
  if (access.kind === 'public') return 'success';
  if (credential.scopes === undefined) return 401;
  if (access.kind === 'authenticated') return 'success';
  if (access.kind === 'metrics') return credential.metrics || credential.scopes.includes('admin') ? 'success' : 403;
  if (!credential.scopes.includes('admin') && !access.anyOf.some((scope) => credential.scopes!.includes(scope))) return 403;
  if (credential.restricted && (Array.isArray(access.models) || access.models === 'unrestricted')) return 403;
  return 'success';
}

interface Shared {
  modelId: number;
  modelName: string;
  versionId: number;
  bindingId: number;
  runId: number;
  keyId: number;
  webhookId: number;
  deliveryId: number;
}

interface Request {
  path: string;
  body?: object;
  /** Sent as HEAD: the route answers with headers only (an endless stream otherwise). */
  head?: boolean;
}

describe('authorization matrix: every route × every kind of credential', () => {
  let sut: TestApp;
  const issuer = new OidcIssuer();
  let shared: Shared;
  let sequence = 0;
  const admin = bearer(BOOTSTRAP_KEY);

  async function post(path: string, body: object) {
    const response = await sut.http.post(path).set(admin).send(body);
    if (response.status !== 201) throw new Error(`fixture POST ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body as Record<string, any>;
  }

  const freshModel = () => post('/models', makeModel({ name: `team-b-${++sequence}-${process.pid}` }));
  const freshWebhook = () => post('/webhooks', { url: 'http://127.0.0.1:9/matrix', events: ['*'] });
  /** A finished delivery of `webhookId` (a test event sent to a port nobody listens on: failed). */
  const finishedDelivery = async (webhookId: number) => (await sut.http.post(`/webhooks/${webhookId}/test`).set(admin).expect(200)).body as Record<string, any>;
  const headOfFeed = async () => (await sut.http.get('/events?after=now').set(admin).expect(200)).body.next_cursor as string;
  /** An import that changes exactly one binding (a new one, priced by the document) when it succeeds. */
  const catalogImport = async (fresh: boolean): Promise<Request> => {
    const id = `matrix-import-${++sequence}`;
    if (fresh) await post('/bindings', makeBinding(shared.versionId, { provider: 'openai', provider_model_id: id }));
    return { path: '/catalog/import', body: { [id]: { litellm_provider: 'openai', mode: 'chat', input_cost_per_token: 0.000001, output_cost_per_token: 0.000002 } } };
  };

  /** Builds the request for each route; destructive ones get a fresh target when the call should succeed. */
  const builders: Record<string, (fresh: boolean) => Promise<Request>> = {
    'GET /health': async () => ({ path: '/health' }),
    'GET /health/live': async () => ({ path: '/health/live' }),
    'GET /health/ready': async () => ({ path: '/health/ready' }),
    'GET /problems': async () => ({ path: '/problems' }),
    'GET /problems/:code': async () => ({ path: '/problems/forbidden' }),
    'GET /metrics': async () => ({ path: '/metrics' }),
    'GET /docs': async () => ({ path: '/docs' }),
    'GET /docs/': async () => ({ path: '/docs/' }),
    'GET /docs/index.html': async () => ({ path: '/docs/index.html' }),
    'GET /docs/LICENSE': async () => ({ path: '/docs/LICENSE' }),
    'GET /docs/*': async () => ({ path: '/docs/swagger-ui.css' }),
    'GET /docs/swagger-ui-init.js': async () => ({ path: '/docs/swagger-ui-init.js' }),
    'GET /docs/docs/swagger-ui-init.js': async () => ({ path: '/docs/docs/swagger-ui-init.js' }),
    'GET /docs-json': async () => ({ path: '/docs-json' }),
    'GET /docs-yaml': async () => ({ path: '/docs-yaml' }),
    'GET /auth/whoami': async () => ({ path: '/auth/whoami' }),
    'POST /api-keys': async () => ({ path: '/api-keys', body: { name: 'matrix', scopes: ['registry:read'] } }),
    'GET /api-keys': async () => ({ path: '/api-keys' }),
    'GET /api-keys/:id': async () => ({ path: `/api-keys/${shared.keyId}` }),
    // Revoking is idempotent: the same key answers 204 every time (a fresh one is revoked when it counts).
    'DELETE /api-keys/:id': async (fresh) => ({ path: `/api-keys/${fresh ? (await createKey(sut.http, { scopes: ['registry:read'] })).id : shared.keyId}` }),
    'GET /audit': async () => ({ path: '/audit' }),
    'POST /models': async () => ({ path: '/models', body: makeModel({ name: `team-b-new-${++sequence}-${process.pid}` }) }),
    'GET /models': async () => ({ path: '/models' }),
    'GET /models/name/:name': async () => ({ path: `/models/name/${shared.modelName}` }),
    'GET /models/:id': async () => ({ path: `/models/${shared.modelId}` }),
    'PUT /models/:id': async () => ({ path: `/models/${shared.modelId}`, body: { description: `changed ${++sequence}` } }),
    'DELETE /models/:id': async (fresh) => ({ path: `/models/${fresh ? (await freshModel()).id : shared.modelId}` }),
    'GET /models/:id/aliases': async () => ({ path: `/models/${shared.modelId}/aliases` }),
    'GET /models/:id/aliases/:alias': async () => ({ path: `/models/${shared.modelId}/aliases/production` }),
    'PUT /models/:id/aliases/:alias': async () => ({ path: `/models/${shared.modelId}/aliases/set-${++sequence}`, body: { version_id: shared.versionId } }),
    'DELETE /models/:id/aliases/:alias': async (fresh) => {
      const alias = `tmp-${++sequence}`;
      if (fresh) await sut.http.put(`/models/${shared.modelId}/aliases/${alias}`).set(admin).send({ version_id: shared.versionId }).expect(201);
      return { path: `/models/${shared.modelId}/aliases/${alias}` };
    },
    'POST /versions': async () => ({ path: '/versions', body: makeVersion(shared.modelId) }),
    'GET /versions': async () => ({ path: '/versions' }),
    'GET /versions/:id': async () => ({ path: `/versions/${shared.versionId}` }),
    'PUT /versions/:id': async () => ({ path: `/versions/${shared.versionId}`, body: { eval_score: (++sequence % 100) / 100 } }),
    'DELETE /versions/:id': async (fresh) => ({ path: `/versions/${fresh ? (await post('/versions', makeVersion(shared.modelId))).id : shared.versionId}` }),
    'POST /versions/:id/restore': async (fresh) => {
      if (!fresh) return { path: `/versions/${shared.versionId}/restore` };
      const version = await post('/versions', makeVersion(shared.modelId));
      await sut.db.query(`UPDATE model_versions SET archived_at = now(), archive_uri = 'archive://x' WHERE id = $1`, [version.id]);
      return { path: `/versions/${version.id}/restore` };
    },
    'POST /bindings': async () => ({ path: '/bindings', body: makeBinding(shared.versionId) }),
    'GET /bindings': async () => ({ path: '/bindings' }),
    'GET /bindings/:id': async () => ({ path: `/bindings/${shared.bindingId}` }),
    'PUT /bindings/:id': async () => ({ path: `/bindings/${shared.bindingId}`, body: { config: { attempt: ++sequence } } }),
    'POST /bindings/:id/usage': async () => ({ path: `/bindings/${shared.bindingId}/usage`, body: { latency_ms: 10, success: true } }),
    'DELETE /bindings/:id': async (fresh) => ({ path: `/bindings/${fresh ? (await post('/bindings', makeBinding(shared.versionId, { status: 'inactive' }))).id : shared.bindingId}` }),
    'GET /resolve/:model_name': async () => ({ path: `/resolve/${shared.modelName}` }),
    'GET /events': async () => ({ path: '/events' }),
    'GET /stats': async () => ({ path: `/stats?model_id=${shared.modelId}` }),
    'POST /retention/apply': async () => ({ path: '/retention/apply', body: { model_id: shared.modelId, dry_run: true } }),
    'GET /retention/stats': async () => ({ path: '/retention/stats' }),
    'GET /retention/runs': async () => ({ path: '/retention/runs' }),
    'GET /retention/runs/:id': async () => ({ path: `/retention/runs/${shared.runId}` }),
    'GET /events/stream': async () => ({ path: '/events/stream', head: true }),
    'GET /catalog/litellm': async () => ({ path: '/catalog/litellm' }),
    'GET /catalog/openrouter': async () => ({ path: '/catalog/openrouter' }),
    'POST /catalog/import': catalogImport,
    'POST /webhooks': async () => ({ path: '/webhooks', body: { url: 'http://127.0.0.1:9/matrix', events: ['version.created'] } }),
    'GET /webhooks': async () => ({ path: '/webhooks' }),
    'GET /webhooks/:id': async () => ({ path: `/webhooks/${shared.webhookId}` }),
    'PUT /webhooks/:id': async () => ({ path: `/webhooks/${shared.webhookId}`, body: { description: `changed ${++sequence}` } }),
    'DELETE /webhooks/:id': async (fresh) => ({ path: `/webhooks/${fresh ? (await freshWebhook()).id : shared.webhookId}` }),
    'POST /webhooks/:id/rotate-secret': async () => ({ path: `/webhooks/${shared.webhookId}/rotate-secret` }),
    'POST /webhooks/:id/test': async () => ({ path: `/webhooks/${shared.webhookId}/test` }),
    'GET /webhooks/:id/deliveries': async () => ({ path: `/webhooks/${shared.webhookId}/deliveries` }),
    'GET /webhooks/:id/deliveries/:delivery_id': async () => ({ path: `/webhooks/${shared.webhookId}/deliveries/${shared.deliveryId}` }),
    'POST /webhooks/:id/deliveries/:delivery_id/retry': async (fresh) => ({
      path: `/webhooks/${shared.webhookId}/deliveries/${fresh ? (await finishedDelivery(shared.webhookId)).id : shared.deliveryId}/retry`,
    }),
    'POST /webhooks/:id/replay': async () => ({ path: `/webhooks/${shared.webhookId}/replay`, body: { after: await headOfFeed() } }),
  };

  const credentials: Credential[] = [];

  beforeAll(async () => {
    await issuer.start();
    sut = await createTestApp('auth_matrix', {
      env: authEnv({
        METRICS_TOKEN,
        // Webhook URLs on this machine (nothing listens there; deliveries are off in tests).
        WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
        ...issuer.env({ AUTH_OIDC_SUBJECT_SCOPES: 'repo:acme/ml-pipeline:*=registry:write,usage:report' }),
      }),
    });
    const model = await post('/models', makeModel({ name: `team-b-shared-${process.pid}` }));
    const version = await post('/versions', makeVersion(model.id));
    const binding = await post('/bindings', makeBinding(version.id));
    await sut.http.put(`/models/${model.id}/aliases/production`).set(admin).send({ version_id: version.id }).expect(201);
    const run = (await sut.http.post('/retention/apply').set(admin).send({ model_id: model.id, dry_run: true }).expect(200)).body;
    const target = await createKey(sut.http, { name: 'revoked-by-the-matrix', scopes: ['registry:read'] });
    const webhook = await freshWebhook();
    const delivery = await finishedDelivery(webhook.id);
    shared = {
      modelId: model.id,
      modelName: model.name,
      versionId: version.id,
      bindingId: binding.id,
      runId: run.run_id,
      keyId: target.id,
      webhookId: webhook.id,
      deliveryId: delivery.id,
    };

    const nonAdmin = SCOPES.filter((scope) => scope !== 'admin');
    const revoked = await createKey(sut.http, { scopes: nonAdmin });
    await sut.http.delete(`/api-keys/${revoked.id}`).set(admin).expect(204);
    const expired = await createKey(sut.http, { scopes: nonAdmin });
    await sut.db.query(`UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE id = $1`, [expired.id]);
    const restricted = await createKey(sut.http, { scopes: nonAdmin, models: RESTRICTED_TO });
    const unknown = `${revoked.key.slice(0, 5)}0000000${revoked.key.slice(12)}`;

    credentials.push(
      { name: 'no token' },
      { name: 'malformed', header: `Basic ${Buffer.from('a:b').toString('base64')}` },
      { name: 'bearer without a token', header: 'Bearer' },
      { name: 'unknown key', header: `Bearer ${unknown}` },
      { name: 'revoked key', header: `Bearer ${revoked.key}` },
      { name: 'expired key', header: `Bearer ${expired.key}` },
      { name: 'bootstrap key', header: `Bearer ${BOOTSTRAP_KEY}`, scopes: ['admin'] },
      { name: 'metrics token', header: `Bearer ${METRICS_TOKEN}`, scopes: [], metrics: true },
      { name: 'key restricted to other models', header: `Bearer ${restricted.key}`, scopes: nonAdmin, restricted: true },
      { name: 'OIDC: valid (scope claim and subject rule)', header: `Bearer ${await issuer.token({ claims: { scope: 'openid registry:read' } })}`, scopes: ['registry:read', 'registry:write', 'usage:report'] },
      { name: 'OIDC: valid, no scopes', header: `Bearer ${await issuer.token({ subject: 'user:nobody' })}`, scopes: [] },
      { name: 'OIDC: expired', header: `Bearer ${await issuer.token({ expiresIn: -3600, claims: { scope: 'admin' } })}` },
      { name: 'OIDC: wrong audience', header: `Bearer ${await issuer.token({ audience: 'another-service', claims: { scope: 'admin' } })}` },
      { name: 'OIDC: wrong issuer', header: `Bearer ${await issuer.token({ issuer: 'https://evil.example.com', claims: { scope: 'admin' } })}` },
      { name: 'OIDC: bad signature', header: `Bearer ${await issuer.token({ wrongKey: true, claims: { scope: 'admin' } })}` },
      { name: 'OIDC: unknown kid', header: `Bearer ${await issuer.token({ unknownKid: true, claims: { scope: 'admin' } })}` },
    );
    for (const scope of SCOPES) {
      const key = await createKey(sut.http, { scopes: [scope] });
      credentials.push({ name: `${scope} alone`, header: `Bearer ${key.key}`, scopes: [scope] });
    }
  });

  afterAll(async () => {
    await sut.close();
    await issuer.stop();
  });

  const routes = () => sut.app.get(AuthHooks).routes.filter((route) => route.method !== 'HEAD' && route.method !== 'OPTIONS');

  it('every route declares who may call it', () => {
    const all = sut.app.get(AuthHooks).routes;
    expect(all.length).toBeGreaterThan(40);
    expect(all.filter((route) => route.access === undefined).map((route) => `${route.method} ${route.url}`)).toEqual([]);
  });

  it('the matrix covers every route of the app', () => {
    expect(routes().map((route) => `${route.method} ${route.url}`).filter((route) => !builders[route])).toEqual([]);
  });

  it('the OpenAPI document says the same: the bearer scheme and each operation\'s scopes', async () => {
    const document = (await sut.http.get('/docs-json').expect(200)).body;
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    // Operations without their own `security` inherit the document's: the bearer token.
    const secured = (requirements: Record<string, unknown>[]) => requirements.some((requirement) => Object.keys(requirement).length > 0);
    const declared = new Map(routes().map((route) => [`${route.method} ${route.url}`, route.access!]));
    const disagreements: string[] = [];
    for (const [path, operations] of Object.entries(document.paths as Record<string, Record<string, { security?: unknown[]; 'x-required-scopes'?: string[] }>>)) {
      for (const [method, operation] of Object.entries(operations)) {
        const access = declared.get(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
        const documented = { secured: secured((operation.security ?? document.security) as Record<string, unknown>[]), scopes: operation['x-required-scopes'] };
        const expected = { secured: access !== undefined && access.kind !== 'public', scopes: access?.kind === 'scope' ? access.anyOf : undefined };
        if (JSON.stringify(documented) !== JSON.stringify(expected)) disagreements.push(`${method} ${path}: ${JSON.stringify(documented)} vs ${JSON.stringify(expected)}`);
      }
    }
    expect(disagreements).toEqual([]);
  });

  it('every change writes exactly one audit entry (usage reports none)', async () => {
    const unaudited = new Set(['POST /bindings/:id/usage']);
    const count = async () => Number((await sut.db.query('SELECT count(*) AS n FROM audit_log')).rows[0].n);
    const wrong: string[] = [];
    for (const route of routes().filter((r) => r.method !== 'GET')) {
      const name = `${route.method} ${route.url}`;
      const request = await builders[name](true);
      const before = await count();
      const call = sut.http[route.method.toLowerCase() as 'post'](request.path).set(admin);
      const response = request.body ? await call.send(request.body) : await call;
      const written = (await count()) - before;
      const expected = unaudited.has(name) ? 0 : 1;
      if (response.status >= 300 || written !== expected) wrong.push(`${name}: ${response.status}, ${written} entries`);
    }
    expect(wrong).toEqual([]);
  });

  it('answers 401, 403 or success exactly as declared, for every route and credential: 0 mismatches', async () => {
    const mismatches: string[] = [];
    let checked = 0;

    async function check(route: RouteDescription & { access: RouteAccess }, credential: Credential): Promise<void> {
      const expected = expectedOutcome(route.access, credential);
      const request = await builders[`${route.method} ${route.url}`](expected === 'success');
      let call = sut.http[request.head ? 'head' : (route.method.toLowerCase() as 'get')](request.path);
      if (credential.header !== undefined) call = call.set('authorization', credential.header);
      const response = request.body ? await call.send(request.body) : await call;
      checked++;
      // Static files of the documentation may be absent (404): open means not refused.
      const success =
        route.access.kind === 'public' ? response.status !== 401 && response.status !== 403 && response.status < 500 : response.status >= 200 && response.status < 300;
      const actual: Expected | number = success ? 'success' : response.status;
      if (actual !== expected) {
        mismatches.push(`${route.method} ${route.url} with ${credential.name}: expected ${expected}, got ${response.status} ${JSON.stringify(response.body).slice(0, 200)}`);
        return;
      }
      // A HEAD answer has no body: its status and headers are all there is to check.
      if (expected === 401) {
        if (!request.head) expectProblem(response, 401, 'unauthorized');
        expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
      }
      if (expected === 403 && !request.head) {
        const problem = expectProblem(response, 403, 'forbidden');
        expect(problem.required_scopes ?? problem.model_restriction).toBeDefined();
      }
    }

    // Credentials run concurrently per route (each destructive call gets its own target), except
    // where concurrent successes would refuse each other: restores take the retention lock.
    const serial = new Set(['POST /versions/:id/restore']);
    for (const route of routes() as (RouteDescription & { access: RouteAccess })[]) {
      if (serial.has(`${route.method} ${route.url}`)) {
        for (const credential of credentials) await check(route, credential);
      } else {
        await Promise.all(credentials.map((credential) => check(route, credential)));
      }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBe(routes().length * credentials.length);
  });
});
