import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditEntryDto } from '../src/audit/dto/audit-entry.dto';
import { authEnv, bearer, BOOTSTRAP_KEY, createKey, type CreatedKey } from './support/auth';
import { makeBinding, makeModel, makeVersion } from './support/factories';
import { expectProblem } from './support/problem';
import { createTestApp, type TestApp } from './support/test-app';

type AuditEntry = AuditEntryDto;

const admin = bearer(BOOTSTRAP_KEY);

describe('audit log', () => {
  let sut: TestApp;
  let operator: CreatedKey;
  let as: Record<string, string>;

  beforeAll(async () => {
    sut = await createTestApp('audit', { env: authEnv() });
    operator = await createKey(sut.http, { name: 'release-bot', scopes: ['registry:read', 'registry:write', 'registry:manage', 'usage:report', 'retention:run'] });
    as = bearer(operator.key);
  });
  afterAll(() => sut.close());

  /** The audit entries written since `afterId`, oldest first. */
  async function entriesAfter(afterId: number): Promise<AuditEntry[]> {
    const { rows } = await sut.db.query('SELECT id FROM audit_log WHERE id > $1 ORDER BY id', [afterId]);
    const all: AuditEntry[] = (await sut.http.get('/audit').query({ limit: 100 }).set(admin).expect(200)).body.items;
    return rows.map((row: { id: number }) => all.find((entry) => entry.id === Number(row.id))!);
  }
  const lastId = async () => Number((await sut.db.query('SELECT coalesce(max(id), 0) AS id FROM audit_log')).rows[0].id);

  /** Runs one mutation and returns the single audit entry it wrote. */
  async function onlyEntryOf(mutation: () => Promise<{ headers: Record<string, string> }>): Promise<AuditEntry> {
    const before = await lastId();
    const response = await mutation();
    const entries = await entriesAfter(before);
    expect(entries).toHaveLength(1);
    expect(entries[0].request_id).toBe(response.headers['x-request-id']);
    return entries[0];
  }

  it('writes one entry per mutation, with the actor and the changed fields before and after', async () => {
    const actor = { actor: `api_key:${operator.id}`, actor_type: 'api_key', actor_key_id: operator.id, actor_name: 'release-bot', actor_subject: null };
    const model = makeModel({ description: 'first' });
    let entry = await onlyEntryOf(() => sut.http.post('/models').set(as).send(model).expect(201));
    const modelId = Number(entry.resource_id);
    expect(entry).toMatchObject({ ...actor, action: 'model.created', resource_type: 'model', before: null, after: { id: modelId, name: model.name, description: 'first' } });

    entry = await onlyEntryOf(() => sut.http.put(`/models/${modelId}`).set(as).send({ description: 'second', task: model.task }).expect(200));
    expect(entry).toMatchObject({ ...actor, action: 'model.updated', resource_id: String(modelId), before: { description: 'first' }, after: { description: 'second' } });
    expect(Object.keys(entry.after!)).toEqual(['description']);

    entry = await onlyEntryOf(() => sut.http.post('/versions').set(as).send(makeVersion(modelId, { version: '1.0.0', eval_score: 0.8 })).expect(201));
    const versionId = Number(entry.resource_id);
    expect(entry).toMatchObject({ action: 'version.created', resource_type: 'version', after: { model_id: modelId, version: '1.0.0', eval_score: 0.8 } });
    entry = await onlyEntryOf(() => sut.http.put(`/versions/${versionId}`).set(as).send({ eval_score: 0.9 }).expect(200));
    expect(entry).toMatchObject({ action: 'version.updated', before: { eval_score: 0.8 }, after: { eval_score: 0.9 } });

    entry = await onlyEntryOf(() => sut.http.post('/bindings').set(as).send(makeBinding(versionId, { status: 'inactive' })).expect(201));
    const bindingId = Number(entry.resource_id);
    expect(entry).toMatchObject({ action: 'binding.created', resource_type: 'binding', after: { version_id: versionId, status: 'inactive' } });
    entry = await onlyEntryOf(() => sut.http.put(`/bindings/${bindingId}`).set(as).send({ config: { temperature: 0.1 } }).expect(200));
    expect(entry).toMatchObject({ action: 'binding.updated', before: { config: { temperature: 0.7 } }, after: { config: { temperature: 0.1 } } });

    entry = await onlyEntryOf(() => sut.http.put(`/models/${modelId}/aliases/production`).set(as).send({ version_id: versionId }).expect(201));
    expect(entry).toMatchObject({ action: 'alias.set', resource_type: 'alias', resource_id: `${modelId}/production`, before: null, after: { version_id: versionId, version: '1.0.0' } });
    const second = (await sut.http.post('/versions').set(as).send(makeVersion(modelId, { version: '1.1.0' })).expect(201)).body;
    entry = await onlyEntryOf(() => sut.http.put(`/models/${modelId}/aliases/production`).set(as).send({ version_id: second.id }).expect(200));
    expect(entry).toMatchObject({ action: 'alias.set', before: { version_id: versionId, version: '1.0.0' }, after: { version_id: second.id, version: '1.1.0' } });
    entry = await onlyEntryOf(() => sut.http.delete(`/models/${modelId}/aliases/production`).set(as).expect(204));
    expect(entry).toMatchObject({ action: 'alias.deleted', before: { alias: 'production', version_id: second.id }, after: null });

    entry = await onlyEntryOf(() => sut.http.post('/retention/apply').set(as).send({ model_id: modelId, retention_count: 1 }).expect(200));
    expect(entry).toMatchObject({ ...actor, action: 'retention.applied', resource_type: 'retention_run', after: { model_id: modelId, retention_count: 1, dry_run: false, purge: false } });
    const archived = (await sut.db.query('SELECT id FROM model_versions WHERE model_id = $1 AND archived_at IS NOT NULL', [modelId])).rows;
    expect(archived).toHaveLength(1);
    entry = await onlyEntryOf(() => sut.http.post(`/versions/${archived[0].id}/restore`).set(as).expect(200));
    expect(entry).toMatchObject({ action: 'version.restored', resource_id: String(archived[0].id), after: { archived_at: null } });
    expect(entry.before!.archived_at).toEqual(expect.any(String));

    entry = await onlyEntryOf(() => sut.http.delete(`/bindings/${bindingId}`).set(as).expect(204));
    expect(entry).toMatchObject({ action: 'binding.deleted', before: { id: bindingId }, after: null });
    entry = await onlyEntryOf(() => sut.http.delete(`/versions/${second.id}`).set(as).expect(204));
    expect(entry).toMatchObject({ action: 'version.deleted', before: { id: second.id, version: '1.1.0' } });
    entry = await onlyEntryOf(() => sut.http.delete(`/models/${modelId}`).set(as).expect(204));
    expect(entry).toMatchObject({ ...actor, action: 'model.deleted', before: { id: modelId, name: model.name }, after: null });

    entry = await onlyEntryOf(() => sut.http.post('/api-keys').set(admin).send({ name: 'made-for-audit', scopes: ['registry:read'] }).expect(201));
    expect(entry).toMatchObject({ actor: 'bootstrap', actor_type: 'bootstrap', action: 'api_key.created', resource_type: 'api_key', after: { name: 'made-for-audit', scopes: ['registry:read'] } });
    expect(JSON.stringify(entry)).not.toMatch(/mrk_[0-9a-f]{12}_/);
    expect(entry.after!.key).toBeUndefined();
    entry = await onlyEntryOf(() => sut.http.delete(`/api-keys/${entry.resource_id}`).set(admin).expect(204));
    expect(entry).toMatchObject({ action: 'api_key.revoked', before: { status: 'active', revoked_at: null }, after: { status: 'revoked', revoked_by: 'bootstrap' } });
  });

  it('writes nothing for reads, refused or failed requests, no-op updates and usage reports', async () => {
    const model = (await sut.http.post('/models').set(as).send(makeModel()).expect(201)).body;
    const version = (await sut.http.post('/versions').set(as).send(makeVersion(model.id)).expect(201)).body;
    const binding = (await sut.http.post('/bindings').set(as).send(makeBinding(version.id)).expect(201)).body;
    const before = await lastId();
    await sut.http.get(`/models/${model.id}`).set(as).expect(200);
    await sut.http.post('/models').set(as).send(makeModel({ name: model.name })).expect(409);
    await sut.http.delete(`/models/${model.id}`).set(as).expect(409);
    await sut.http.delete(`/models/${model.id}`).set(bearer((await createKey(sut.http, { scopes: ['registry:read'] })).key)).expect(403);
    const afterKey = await lastId();
    await sut.http.put(`/models/${model.id}`).set(as).send({ task: model.task }).expect(200);
    await sut.http.post('/versions').set(as).send({ ...makeVersion(model.id), hash: version.hash, version: version.version }).expect(200);
    await sut.http.post(`/bindings/${binding.id}/usage`).set(as).send({ latency_ms: 10, success: true }).expect(200);
    expect(await lastId()).toBe(afterKey);
    // Only the key created above was recorded.
    expect(afterKey - before).toBe(1);
  });

  it('records a change and its audit entry in one transaction: no entry, no change', async () => {
    await sut.db.query(`ALTER TABLE audit_log ADD CONSTRAINT ck_test_refuse CHECK (action <> 'model.created') NOT VALID`);
    try {
      const model = makeModel();
      const response = await sut.http.post('/models').set(as).send(model);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect((await sut.db.query('SELECT 1 FROM models WHERE name = $1', [model.name])).rowCount).toBe(0);
    } finally {
      await sut.db.query('ALTER TABLE audit_log DROP CONSTRAINT ck_test_refuse');
    }
  });

  it('gives change events the same actor', async () => {
    const model = (await sut.http.post('/models').set(as).send(makeModel()).expect(201)).body;
    await sut.http.put(`/models/${model.id}`).set(admin).send({ description: 'by the admin' }).expect(200);
    const { rows } = await sut.db.query('SELECT type, actor FROM events WHERE model_id = $1 ORDER BY id', [model.id]);
    expect(rows).toEqual([
      { type: 'model.created', actor: `api_key:${operator.id}` },
      { type: 'model.updated', actor: 'bootstrap' },
    ]);
    // Through the feed too (released once older transactions on the server have ended).
    let events: { model_id: number; actor: string }[] = [];
    for (let waited = 0; waited < 10_000 && events.filter((e) => e.model_id === model.id).length < 2; waited += 100) {
      events = (await sut.http.get('/events').query({ limit: 1000 }).set(as).expect(200)).body.items;
      await sleep(100);
    }
    expect(events.filter((e) => e.model_id === model.id).map((e) => e.actor)).toEqual([`api_key:${operator.id}`, 'bootstrap']);
  });

  it('filters by actor, action, resource and time, newest first, in keyset pages', async () => {
    const model = (await sut.http.post('/models').set(as).send(makeModel()).expect(201)).body;
    for (const description of ['a', 'b', 'c']) await sut.http.put(`/models/${model.id}`).set(as).send({ description }).expect(200);
    const query = { resource_type: 'model', resource_id: String(model.id) };
    const all: AuditEntry[] = (await sut.http.get('/audit').query(query).set(admin).expect(200)).body.items;
    expect(all.map((e) => e.action)).toEqual(['model.updated', 'model.updated', 'model.updated', 'model.created']);

    const first = (await sut.http.get('/audit').query({ ...query, limit: 3 }).set(admin).expect(200)).body;
    const rest = (await sut.http.get('/audit').query({ ...query, limit: 3, page_token: first.next_page_token }).set(admin).expect(200)).body;
    expect([...first.items, ...rest.items].map((e: AuditEntry) => e.id)).toEqual(all.map((e) => e.id));
    expect(rest.next_page_token).toBeNull();

    const byName = (await sut.http.get('/audit').query({ ...query, actor: 'release-bot', action: 'model.created' }).set(admin).expect(200)).body.items;
    expect(byName.map((e: AuditEntry) => e.action)).toEqual(['model.created']);
    expect((await sut.http.get('/audit').query({ ...query, actor: `api_key:${operator.id}` }).set(admin).expect(200)).body.items).toHaveLength(4);
    expect((await sut.http.get('/audit').query({ ...query, actor: 'bootstrap' }).set(admin).expect(200)).body.items).toEqual([]);
    const since = all[1].occurred_at;
    const recent = (await sut.http.get('/audit').query({ ...query, since }).set(admin).expect(200)).body.items;
    expect(recent.every((e: AuditEntry) => e.occurred_at >= since)).toBe(true);
    expect((await sut.http.get('/audit').query({ ...query, until: all[3].occurred_at }).set(admin).expect(200)).body.items).toEqual([]);
    expectProblem(await sut.http.get('/audit').query({ since: 'yesterday' }).set(admin), 400, 'validation-error');
    expectProblem(await sut.http.get('/audit').set(as), 403, 'forbidden');
  });

  it('is append-only in the database: UPDATE, DELETE and TRUNCATE fail; old rows leave only through prune_audit_log', async () => {
    await expect(sut.db.query(`UPDATE audit_log SET actor = 'someone-else'`)).rejects.toMatchObject({ code: '42501' });
    await expect(sut.db.query(`UPDATE audit_log SET actor = 'x' WHERE false`)).rejects.toMatchObject({ code: '42501' });
    await expect(sut.db.query('DELETE FROM audit_log')).rejects.toMatchObject({ code: '42501' });
    await expect(sut.db.query('TRUNCATE audit_log')).rejects.toMatchObject({ code: '42501' });
    // Setting the pruning marker by hand does not open recent rows either.
    await sut.db.query('BEGIN');
    await sut.db.query(`SELECT set_config('model_registry.audit_prune_before', 'infinity', true)`);
    await expect(sut.db.query('DELETE FROM audit_log')).rejects.toMatchObject({ code: '42501' });
    await sut.db.query('ROLLBACK');

    const count = async () => Number((await sut.db.query('SELECT count(*) AS n FROM audit_log')).rows[0].n);
    const before = await count();
    await sut.db.query(`INSERT INTO audit_log (occurred_at, actor, actor_type, action, resource_type) VALUES (now() - interval '400 days', 'old', 'system', 'model.created', 'model')`);
    await expect(sut.db.query('SELECT prune_audit_log(0)')).rejects.toMatchObject({ code: '22023' });
    expect((await sut.db.query('SELECT prune_audit_log(365) AS deleted')).rows[0].deleted).toBe(1);
    expect(await count()).toBe(before);
  });
});
