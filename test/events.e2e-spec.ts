import { Client } from 'pg';
import { EventsService } from '../src/events/events.service';
import { expectProblem } from './support/problem';
import { create, makeBinding, makeModel, makeVersion } from './support/factories';
import { createTestApp, type TestApp } from './support/test-app';
import { testServer } from './setup/test-database';

interface Event {
  id: number;
  cursor: string;
  type: string;
  model_id: number | null;
  version_id: number | null;
  binding_id: number | null;
  alias: string | null;
  data: Record<string, unknown>;
}

describe('GET /events (change feed)', () => {
  let sut: TestApp;
  let cursor: string;

  beforeAll(async () => {
    sut = await createTestApp('events');
    cursor = (await sut.http.get('/events').query({ after: 'now' }).expect(200)).body.next_cursor;
  });
  afterAll(() => sut.close());

  /** Everything after the cursor, following next_cursor in small pages; moves the cursor. */
  async function drain(limit = 3): Promise<Event[]> {
    const events: Event[] = [];
    for (;;) {
      const { body } = await sut.http.get('/events').query({ after: cursor, limit }).expect(200);
      events.push(...body.items);
      const moved = body.next_cursor !== cursor;
      cursor = body.next_cursor;
      if (!moved || body.items.length < limit) return events;
    }
  }
  const summary = (events: Event[]) => events.map((e) => [e.type, e.model_id, e.version_id, e.binding_id, e.alias]);

  it('reports each change exactly once, in order, with what changed', async () => {
    const model = await create(sut.http, '/models', makeModel());
    const version = await create(sut.http, '/versions', makeVersion(model.id));
    const binding = await create(sut.http, '/bindings', makeBinding(version.id));
    await sut.http.put(`/versions/${version.id}`).send({ eval_score: 0.5, slo_ok: false }).expect(200);
    await sut.http.put(`/models/${model.id}/aliases/production`).send({ version_id: version.id }).expect(201);
    await sut.http.put(`/bindings/${binding.id}`).send({ status: 'inactive' }).expect(200);
    await sut.http.put(`/models/${model.id}`).send({ description: 'changed' }).expect(200);

    const events = await drain();
    expect(summary(events)).toEqual([
      ['model.created', model.id, null, null, null],
      ['version.created', model.id, version.id, null, null],
      ['binding.created', model.id, version.id, binding.id, null],
      ['version.updated', model.id, version.id, null, null],
      ['alias.set', model.id, version.id, null, 'production'],
      ['binding.updated', model.id, version.id, binding.id, null],
      ['model.updated', model.id, null, null, null],
    ]);
    expect(events[3].data).toEqual({ changed: ['eval_score', 'slo_ok'] });
    expect(events[5].data).toEqual({ changed: ['status'] });
    expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((a, b) => a - b));
    expect(await drain()).toEqual([]);
  });

  it('reports a purge as such, and every row a cascading delete removes', async () => {
    const model = await create(sut.http, '/models', makeModel());
    const versions = [];
    for (let i = 0; i < 4; i++) versions.push(await create(sut.http, '/versions', makeVersion(model.id)));
    await sut.db.query(`UPDATE model_versions SET created_at = now() - interval '1 hour' WHERE id = $1`, [versions[0].id]);
    await sut.http.put(`/models/${model.id}/aliases/staging`).send({ version_id: versions[1].id }).expect(201);
    await sut.http.post('/retention/apply').send({ model_id: model.id }).expect(200);
    await sut.db.query(`UPDATE model_versions SET archived_at = now() - interval '100 days' WHERE id = $1`, [versions[0].id]);
    await drain();
    await sut.http.post('/retention/apply').send({ model_id: model.id, purge: true }).expect(200);
    expect(summary(await drain())).toEqual([['version.purged', model.id, versions[0].id, null, null]]);

    await sut.http.delete(`/models/${model.id}`).expect(204);
    const deleted = await drain();
    expect(deleted.map((e) => e.type).sort()).toEqual(['alias.deleted', 'model.deleted', 'version.deleted', 'version.deleted', 'version.deleted']);
  });

  it('reports archive and restore with their own types and the alias move with the previous version', async () => {
    const model = await create(sut.http, '/models', makeModel());
    const a = await create(sut.http, '/versions', makeVersion(model.id));
    const b = await create(sut.http, '/versions', makeVersion(model.id));
    await sut.db.query(`UPDATE model_versions SET created_at = now() - interval '1 hour' WHERE id = $1`, [a.id]);
    await drain();
    await sut.http.put(`/models/${model.id}/aliases/staging`).send({ version_id: a.id }).expect(201);
    await sut.http.put(`/models/${model.id}/aliases/staging`).send({ version_id: b.id }).expect(200);
    await sut.http.post('/retention/apply').send({ model_id: model.id, retention_count: 1 }).expect(200);
    await sut.http.post(`/versions/${a.id}/restore`).expect(200);
    const events = await drain();
    expect(events.map((e) => [e.type, e.version_id, e.data])).toEqual([
      ['alias.set', a.id, {}],
      ['alias.set', b.id, { previous_version_id: a.id }],
      ['version.archived', a.id, { changed: ['archive_uri', 'archived_at'] }],
      ['version.restored', a.id, { changed: ['archive_uri', 'archived_at'] }],
    ]);
  });

  it('writes nothing for failed requests, no-op updates, usage reports or a rolled-back transaction', async () => {
    const model = await create(sut.http, '/models', makeModel());
    const version = await create(sut.http, '/versions', makeVersion(model.id));
    const binding = await create(sut.http, '/bindings', makeBinding(version.id));
    await drain();
    await sut.http.post('/models').send(makeModel({ name: model.name })).expect(409);
    await sut.http.delete(`/versions/${version.id}`).expect(409);
    await sut.http.put(`/models/${model.id}`).send({ task: model.task }).expect(200);
    await sut.http.post(`/bindings/${binding.id}/usage`).send({ latency_ms: 100, success: true }).expect(200);
    await sut.db.query('BEGIN');
    await sut.db.query(`INSERT INTO models (name, task, subject) VALUES ('rolled-back', 'generation', 'general')`);
    await sut.db.query('ROLLBACK');
    expect(await drain()).toEqual([]);
  });

  it('never skips an event committed by a slower transaction that started writing first', async () => {
    await drain();
    const slow = new Client({ ...testServer(), database: sut.database });
    await slow.connect();
    try {
      await slow.query('BEGIN');
      await slow.query(`INSERT INTO models (name, task, subject) VALUES ('slow-writer', 'generation', 'general')`);
      const fast = await create(sut.http, '/models', makeModel());
      // The fast change is committed, but the slow transaction started writing before it: hold it back.
      expect(await drain()).toEqual([]);
      await slow.query('COMMIT');
      const events = await drain();
      expect(events.map((e) => e.type)).toEqual(['model.created', 'model.created']);
      expect(events[1].model_id).toBe(fast.id);
    } finally {
      await slow.end();
    }
  });

  it('validates cursors and answers 410 for one older than pruning', async () => {
    expectProblem(await sut.http.get('/events').query({ after: 'garbage!' }), 400, 'validation-error');
    expectProblem(await sut.http.get('/events').query({ limit: 0 }), 400, 'validation-error');
    const first = (await sut.http.get('/events').query({ limit: 1 }).expect(200)).body.items[0] as Event;
    await sut.db.query(`UPDATE events SET occurred_at = now() - interval '31 days' WHERE id = $1`, [first.id]);
    expect(await sut.app.get(EventsService).prune()).toBe(1);
    expectProblem(await sut.http.get('/events').query({ after: Buffer.from('0:0').toString('base64url') }), 410, 'cursor-expired');
    await sut.http.get('/events').query({ after: first.cursor }).expect(200);
    await sut.http.get('/events').expect(200);
  });
});
