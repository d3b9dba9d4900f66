import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { authEnv, bearer, BOOTSTRAP_KEY, createKey } from './support/auth';
import { makeBinding, makeModel, makeVersion } from './support/factories';
import { OidcIssuer } from './support/oidc-issuer';
import { parsePrometheus } from './support/prometheus';
import { expectProblem } from './support/problem';
import { createTestApp, type TestApp } from './support/test-app';

const admin = bearer(BOOTSTRAP_KEY);

describe('API keys, identities and model restrictions', () => {
  let sut: TestApp;
  const issuer = new OidcIssuer();

  beforeAll(async () => {
    await issuer.start();
    sut = await createTestApp('api_keys', { env: authEnv(issuer.env({ AUTH_OIDC_SCOPES_CLAIM: 'scp' })) });
  });
  afterAll(async () => {
    await sut.close();
    await issuer.stop();
  });

  async function post(path: string, body: object, auth = admin) {
    const response = await sut.http.post(path).set(auth).send(body);
    if (response.status !== 201) throw new Error(`POST ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body as Record<string, any>;
  }

  it('shows a new key once, stores only its SHA-256, and never lists it', async () => {
    const response = await sut.http.post('/api-keys').set(admin).send({ name: 'ci-pipeline', scopes: ['registry:read', 'registry:write'], expires_at: '2099-01-01T00:00:00Z' }).expect(201);
    const created = response.body;
    expect(response.headers.location).toBe(`/api-keys/${created.id}`);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(created).toMatchObject({ name: 'ci-pipeline', scopes: ['registry:read', 'registry:write'], models: null, status: 'active', expires_at: '2099-01-01T00:00:00.000Z', created_by: 'bootstrap', last_used_at: null, revoked_at: null });
    expect(created.key).toMatch(/^mrk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(created.key.startsWith(`${created.prefix}_`)).toBe(true);
    // At least 32 random bytes after the visible prefix.
    expect(Buffer.from(created.key.slice(created.prefix.length + 1), 'base64url').length).toBeGreaterThanOrEqual(32);

    const { rows } = await sut.db.query('SELECT to_jsonb(k) AS row, key_hash FROM api_keys k WHERE id = $1', [created.id]);
    expect(rows[0].key_hash).toEqual(createHash('sha256').update(created.key).digest());
    expect(JSON.stringify(rows[0].row)).not.toContain(created.key.slice(created.prefix.length + 1));

    const read = (await sut.http.get(`/api-keys/${created.id}`).set(admin).expect(200)).body;
    const listed = (await sut.http.get('/api-keys').set(admin).expect(200)).body;
    expect(read).toEqual({ ...created, key: undefined });
    expect(listed.items.find((item: { id: number }) => item.id === created.id)).toEqual(read);
    expect(JSON.stringify([read, listed])).not.toContain(created.key);
    expectProblem(await sut.http.get('/api-keys/999999').set(admin), 404, 'not-found');
  });

  it('validates what a key may be', async () => {
    const refuse = async (body: object, field: string) => {
      const problem = expectProblem(await sut.http.post('/api-keys').set(admin).send({ name: 'k', scopes: ['registry:read'], ...body }), 400, 'validation-error');
      expect(problem.errors?.map((e) => e.field)).toContain(field);
    };
    await refuse({ scopes: [] }, 'scopes');
    await refuse({ scopes: ['registry:delete'] }, 'scopes');
    await refuse({ scopes: 'admin' }, 'scopes');
    await refuse({ name: '' }, 'name');
    await refuse({ models: ['Team-A'] }, 'models');
    await refuse({ models: [] }, 'models');
    await refuse({ scopes: ['admin'], models: ['team-a-*'] }, 'models');
    await refuse({ expires_at: '2001-01-01T00:00:00Z' }, 'expires_at');
    await refuse({ expires_at: 'tomorrow' }, 'expires_at');
    await refuse({ key: 'chosen-by-me' }, 'key');
  });

  it('tells the caller who it is', async () => {
    const key = await createKey(sut.http, { name: 'whoami', scopes: ['usage:report'], models: ['team-a-*'] });
    expect((await sut.http.get('/auth/whoami').set(bearer(key.key)).expect(200)).body).toEqual({
      actor: `api_key:${key.id}`,
      type: 'api_key',
      key_id: key.id,
      name: 'whoami',
      subject: null,
      scopes: ['usage:report'],
      models: ['team-a-*'],
      expires_at: null,
      auth_required: true,
    });
    expect((await sut.http.get('/auth/whoami').set(admin).expect(200)).body).toMatchObject({ actor: 'bootstrap', type: 'bootstrap', scopes: ['admin'] });
    const token = await issuer.token({ subject: 'user:alice', claims: { scp: ['registry:read', 'not-a-scope'] } });
    expect((await sut.http.get('/auth/whoami').set(bearer(token)).expect(200)).body).toMatchObject({ actor: 'oidc:user:alice', type: 'oidc', subject: 'user:alice', scopes: ['registry:read'], models: null });
    const problem = expectProblem(await sut.http.get('/auth/whoami'), 401, 'unauthorized');
    expect(problem.reason).toBe('missing');
  });

  it('records when a key was last used, without a write per request', async () => {
    const key = await createKey(sut.http, { scopes: ['registry:read'] });
    for (let i = 0; i < 5; i++) await sut.http.get('/models').set(bearer(key.key)).expect(200);
    let lastUsed: string | null = null;
    for (let waited = 0; waited < 3_000 && !lastUsed; waited += 100) {
      lastUsed = (await sut.http.get(`/api-keys/${key.id}`).set(admin).expect(200)).body.last_used_at;
      if (!lastUsed) await sleep(100);
    }
    expect(Date.parse(lastUsed!)).toBeGreaterThan(Date.now() - 60_000);
    const { rows } = await sut.db.query('SELECT last_used_at FROM api_keys WHERE id = $1', [key.id]);
    await sut.http.get('/models').set(bearer(key.key)).expect(200);
    await sleep(200);
    const again = await sut.db.query('SELECT last_used_at FROM api_keys WHERE id = $1', [key.id]);
    expect(again.rows[0].last_used_at).toEqual(rows[0].last_used_at);
  });

  it('stops accepting a key once it expires', async () => {
    const key = await createKey(sut.http, { scopes: ['registry:read'], expires_at: new Date(Date.now() + 1_500).toISOString() });
    await sut.http.get('/models').set(bearer(key.key)).expect(200);
    await sleep(1_600);
    const problem = expectProblem(await sut.http.get('/models').set(bearer(key.key)), 401, 'unauthorized');
    expect(problem.reason).toBe('expired');
    expect((await sut.http.get(`/api-keys/${key.id}`).set(admin)).body.status).toBe('expired');
  });

  describe('a key restricted to models', () => {
    let own: Record<string, any>;
    let other: Record<string, any>;
    let ownVersion: Record<string, any>;
    let otherVersion: Record<string, any>;
    let otherBinding: Record<string, any>;
    let key: string;

    beforeAll(async () => {
      own = await post('/models', makeModel({ name: `team-a-${process.pid}` }));
      other = await post('/models', makeModel({ name: `team-b-${process.pid}` }));
      ownVersion = await post('/versions', makeVersion(own.id));
      otherVersion = await post('/versions', makeVersion(other.id));
      await post('/bindings', makeBinding(ownVersion.id));
      otherBinding = await post('/bindings', makeBinding(otherVersion.id));
      await sut.http.post('/retention/apply').set(admin).send({ model_id: own.id, dry_run: true }).expect(200);
      await sut.http.post('/retention/apply').set(admin).send({ model_id: other.id, dry_run: true }).expect(200);
      await sut.http.post('/retention/apply').set(admin).send({ dry_run: true }).expect(200);
      key = (await createKey(sut.http, { scopes: ['registry:read', 'registry:write', 'registry:manage', 'usage:report', 'retention:run'], models: ['team-a-*'] })).key;
    });

    const as = () => bearer(key);

    it('lists only its models, their versions, bindings, events and retention runs', async () => {
      const names = (await sut.http.get('/models').set(as()).expect(200)).body.items.map((m: { name: string }) => m.name);
      expect(names).toContain(own.name);
      expect(names.every((name: string) => name.startsWith('team-a-'))).toBe(true);
      const versions = (await sut.http.get('/versions').set(as()).expect(200)).body.items;
      expect(versions.length).toBeGreaterThan(0);
      expect(versions.every((v: { model_id: number }) => v.model_id === own.id)).toBe(true);
      expect((await sut.http.get('/versions').query({ model_id: other.id }).set(as()).expect(200)).body.items).toEqual([]);
      const bindings = (await sut.http.get('/bindings').set(as()).expect(200)).body.items;
      expect(bindings.length).toBe(1);
      expect(bindings[0].version_id).toBe(ownVersion.id);
      // Events are released once older transactions (anywhere on the server) have ended: wait for them.
      let events: { model_id: number }[] = [];
      for (let waited = 0; waited < 10_000 && events.length === 0; waited += 100) {
        events = (await sut.http.get('/events').query({ limit: 1000 }).set(as()).expect(200)).body.items;
        if (events.length === 0) await sleep(100);
      }
      expect(events.length).toBeGreaterThan(0);
      expect(events.every((e) => e.model_id === own.id)).toBe(true);
      const runs = (await sut.http.get('/retention/runs').set(as()).expect(200)).body.items;
      expect(runs.map((r: { model_id: number }) => r.model_id)).toEqual([own.id]);
    });

    it('works on its models and is refused (403) on the others', async () => {
      await sut.http.get(`/models/${own.id}`).set(as()).expect(200);
      await sut.http.get(`/resolve/${own.name}`).set(as()).expect(200);
      await sut.http.put(`/models/${own.id}`).set(as()).send({ description: 'mine' }).expect(200);
      await post('/versions', makeVersion(own.id), as());
      await post('/models', makeModel({ name: `team-a-new-${process.pid}` }), as());
      await sut.http.get(`/stats`).query({ model_id: own.id }).set(as()).expect(200);

      const refused = [
        sut.http.get(`/models/${other.id}`),
        sut.http.get(`/models/name/${other.name}`),
        sut.http.get(`/resolve/${other.name}`),
        sut.http.get(`/versions/${otherVersion.id}`),
        sut.http.get(`/bindings/${otherBinding.id}`),
        sut.http.post(`/bindings/${otherBinding.id}/usage`).send({ latency_ms: 5, success: true }),
        sut.http.post('/models').send(makeModel({ name: `team-b-new-${process.pid}` })),
        sut.http.post('/versions').send(makeVersion(other.id)),
        sut.http.post('/bindings').send(makeBinding(otherVersion.id)),
        // Renaming its own model out of its reach.
        sut.http.put(`/models/${own.id}`).send({ name: `team-b-renamed-${process.pid}` }),
        sut.http.put(`/models/${other.id}/aliases/production`).send({ version_id: otherVersion.id }),
        // Operations over every model need an unrestricted key.
        sut.http.get('/stats'),
        sut.http.get('/retention/stats'),
        sut.http.post('/retention/apply').send({ dry_run: true }),
        sut.http.post('/retention/apply').send({ model_id: other.id, dry_run: true }),
      ];
      for (const call of refused) {
        const problem = expectProblem(await call.set(as()), 403, 'forbidden');
        expect(problem.model_restriction).toEqual(['team-a-*']);
      }
      // Nothing was changed by the refused calls.
      expect((await sut.http.get(`/models/${own.id}`).set(admin)).body.name).toBe(own.name);
      expect((await sut.http.get('/models').query({ q: 'team-b-new' }).set(admin)).body.items).toEqual([]);
    });
  });

  describe('with two replicas', () => {
    let replica: TestApp;
    beforeAll(async () => {
      replica = await createTestApp('api_keys_replica', { env: authEnv({ POSTGRES_DB: sut.database }) });
    });
    afterAll(() => replica.close());

    it('a revoked key stops working on every replica within 5 s', async () => {
      const key = await createKey(sut.http, { scopes: ['registry:read'] });
      await replica.http.get('/models').set(bearer(key.key)).expect(200);
      await sut.http.get('/models').set(bearer(key.key)).expect(200);

      await sut.http.delete(`/api-keys/${key.id}`).set(admin).expect(204);
      const revokedAt = Date.now();
      // The replica that revoked it refuses it at once.
      expect(expectProblem(await sut.http.get('/models').set(bearer(key.key)), 401, 'unauthorized').reason).toBe('revoked');
      let status = 200;
      while (status === 200 && Date.now() - revokedAt < 6_000) {
        status = (await replica.http.get('/models').set(bearer(key.key))).status;
        if (status === 200) await sleep(50);
      }
      expect(status).toBe(401);
      expect(Date.now() - revokedAt).toBeLessThan(5_000);
      // Revoking again changes nothing.
      await sut.http.delete(`/api-keys/${key.id}`).set(admin).expect(204);
      expect((await sut.http.get(`/api-keys/${key.id}`).set(admin)).body).toMatchObject({ status: 'revoked', revoked_by: 'bootstrap' });
    });
  });

  it('keeps /metrics open without METRICS_TOKEN, and the command line out of it', async () => {
    const response = await sut.http.get('/metrics').expect(200);
    const samples = parsePrometheus(response.text);
    expect(samples.length).toBeGreaterThan(0);
    expect(response.text).not.toMatch(/process_command|process_executable_path|process_owner/);
  });
});

describe('METRICS_TOKEN', () => {
  let sut: TestApp;
  const token = 'a-metrics-token-for-tests-0123';
  beforeAll(async () => {
    sut = await createTestApp('metrics_token', { env: { METRICS_TOKEN: token } });
  });
  afterAll(() => sut.close());

  it('closes /metrics to anyone without it, even with AUTH_REQUIRED=false', async () => {
    expectProblem(await sut.http.get('/metrics'), 401, 'unauthorized');
    expectProblem(await sut.http.get('/metrics').set(bearer('wrong-token-0123456789')), 401, 'unauthorized');
    await sut.http.get('/metrics').set(bearer(token)).expect(200);
    // The metrics token opens nothing else.
    expectProblem(await sut.http.get('/models').set(bearer(token)), 403, 'forbidden');
    await sut.http.get('/models').expect(200);
  });
});
