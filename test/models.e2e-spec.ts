import { DepthLimitedValidationPipe } from '../src/common/validation/validation.pipe';
import { expectProblem } from './support/problem';
import { create, makeModel } from './support/factories';
import { createTestApp, type TestApp } from './support/test-app';

describe('models', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await createTestApp('models');
  });
  afterAll(() => sut.close());

  it('serves the hot reads directly (@Direct()): Nest’s pipe runs only for input the fast path declines and for other routes', async () => {
    const model = await create(sut.http, '/models', makeModel());
    const pipe = jest.spyOn(DepthLimitedValidationPipe.prototype, 'transform');
    try {
      await sut.http.get(`/models/${model.id}`).expect(200);
      await sut.http.head(`/models/${model.id}`).expect(200);
      await sut.http.get(`/models/name/${model.name}`).expect(200);
      await sut.http.get(`/resolve/${model.name}`).expect(404);
      expect(pipe).not.toHaveBeenCalled();
      await sut.http.get('/models/abc').expect(400);
      expect(pipe).toHaveBeenCalled();
      pipe.mockClear();
      await sut.http.get(`/versions?model_id=${model.id}`).expect(200);
      expect(pipe).toHaveBeenCalled();
    } finally {
      pipe.mockRestore();
    }
  });

  describe('POST /models', () => {
    it('creates the model of the brief and answers 201 with Location and ETag', async () => {
      const response = await sut.http
        .post('/models')
        .send({ name: 'gpt-4-turbo', task: 'generation', subject: 'general', description: 'GPT-4 Turbo model for general text generation' })
        .expect(201);
      expect(response.body).toEqual({
        id: expect.any(Number),
        name: 'gpt-4-turbo',
        task: 'generation',
        subject: 'general',
        description: 'GPT-4 Turbo model for general text generation',
        retention_count: null,
        aliases: {},
        labels: {},
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        updated_at: expect.any(String),
      });
      expect(response.headers.location).toBe(`/models/${response.body.id}`);
      expect(response.headers.etag).toMatch(/^"[\w-]+"$/);
      const { rows } = await sut.db.query('SELECT name, task, subject FROM models WHERE id = $1', [response.body.id]);
      expect(rows).toEqual([{ name: 'gpt-4-turbo', task: 'generation', subject: 'general' }]);
    });

    it('defaults subject to general and description to null', async () => {
      const response = await sut.http.post('/models').send({ name: 'minimal-model', task: 'embedding' }).expect(201);
      expect(response.body).toMatchObject({ subject: 'general', description: null });
    });

    it('rejects a duplicate name with 409 naming the field, and keeps one row', async () => {
      const body = makeModel();
      await create(sut.http, '/models', body);
      const problem = expectProblem(await sut.http.post('/models').send(body), 409, 'conflict');
      expect(problem.errors).toEqual([{ field: 'name', message: expect.stringContaining('already exists') }]);
      const { rows } = await sut.db.query('SELECT count(*)::int AS n FROM models WHERE name = $1', [body.name]);
      expect(rows[0].n).toBe(1);
    });

    it.each([
      ['an uppercase name', { name: 'GPT-4' }, 'name'],
      ['a name with a space', { name: 'gpt 4' }, 'name'],
      ['a name starting with a dash', { name: '-gpt' }, 'name'],
      ['a 129-character name', { name: 'a'.repeat(129) }, 'name'],
      ['a numeric name', { name: 42 }, 'name'],
      ['a missing task', { task: undefined }, 'task'],
      ['an uppercase task', { task: 'Generation' }, 'task'],
      ['a null subject', { subject: null }, 'subject'],
      ['a 4001-character description', { description: 'x'.repeat(4001) }, 'description'],
      ['an unknown property', { owner: 'me' }, 'owner'],
    ])('rejects %s with 400 and a field error', async (_label, override, field) => {
      const problem = expectProblem(await sut.http.post('/models').send(makeModel(override)), 400, 'validation-error');
      expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    });

    it('lists every invalid field at once', async () => {
      const problem = expectProblem(await sut.http.post('/models').send({ name: 'BAD NAME', task: 7 }), 400, 'validation-error');
      expect(new Set(problem.errors!.map((error) => error.field))).toEqual(new Set(['name', 'task']));
    });
  });

  describe('GET /models/{id} and /models/name/{name}', () => {
    it('reads by id and by name, with an ETag that answers If-None-Match with 304', async () => {
      const model = await create(sut.http, '/models', makeModel());
      const byId = await sut.http.get(`/models/${model.id}`).expect(200);
      expect(byId.body).toEqual(model);
      const byName = await sut.http.get(`/models/name/${model.name}`).expect(200);
      expect(byName.body).toEqual(model);
      expect(byName.headers.etag).toBe(byId.headers.etag);
      const notModified = await sut.http.get(`/models/${model.id}`).set('If-None-Match', byId.headers.etag).expect(304);
      expect(notModified.text).toBe('');
      // Nothing describes a body that is not there: a client must not take the 304 for an empty JSON document.
      expect(notModified.headers['content-type']).toBeUndefined();
      expect(notModified.headers.etag).toBe(byId.headers.etag);
      await sut.http.get(`/models/${model.id}`).set('If-None-Match', '"stale"').expect(200);
    });

    it('answers 404 for a missing id or name, 400 for a malformed id', async () => {
      expectProblem(await sut.http.get('/models/999999'), 404, 'not-found');
      expectProblem(await sut.http.get('/models/name/no-such-model'), 404, 'not-found');
      for (const id of ['abc', '0', '-1', '1.5', '99999999999999999999']) {
        const problem = expectProblem(await sut.http.get(`/models/${id}`), 400, 'validation-error');
        expect(problem.errors![0].field).toBe('id');
      }
    });
  });

  describe('PUT /models/{id}', () => {
    it('changes only the fields sent and returns the new representation and ETag', async () => {
      const model = await create(sut.http, '/models', makeModel({ description: 'before' }));
      const response = await sut.http.put(`/models/${model.id}`).send({ description: 'after' }).expect(200);
      expect(response.body).toMatchObject({ id: model.id, name: model.name, task: model.task, description: 'after' });
      expect(new Date(response.body.updated_at).getTime()).toBeGreaterThanOrEqual(new Date(model.updated_at).getTime());
      const read = await sut.http.get(`/models/${model.id}`);
      expect(read.headers.etag).toBe(response.headers.etag);
    });

    it('clears the description with null but refuses null for a required field', async () => {
      const model = await create(sut.http, '/models', makeModel());
      await sut.http.put(`/models/${model.id}`).send({ description: null }).expect(200);
      const { rows } = await sut.db.query('SELECT description FROM models WHERE id = $1', [model.id]);
      expect(rows[0].description).toBeNull();
      expectProblem(await sut.http.put(`/models/${model.id}`).send({ task: null }), 400, 'validation-error');
    });

    it('honours If-Match: the current ETag passes, a stale one gets 412 and changes nothing', async () => {
      const model = await create(sut.http, '/models', makeModel());
      const { headers } = await sut.http.get(`/models/${model.id}`);
      await sut.http.put(`/models/${model.id}`).set('If-Match', headers.etag).send({ subject: 'science' }).expect(200);
      const problem = expectProblem(await sut.http.put(`/models/${model.id}`).set('If-Match', headers.etag).send({ subject: 'law' }), 412, 'precondition-failed');
      expect(problem.current_etag).toMatch(/^"/);
      const { rows } = await sut.db.query('SELECT subject FROM models WHERE id = $1', [model.id]);
      expect(rows[0].subject).toBe('science');
    });

    it('lets exactly one of two editors holding the same ETag win', async () => {
      const model = await create(sut.http, '/models', makeModel());
      const { headers } = await sut.http.get(`/models/${model.id}`);
      const results = await Promise.all(
        ['legal', 'medical'].map((subject) => sut.http.put(`/models/${model.id}`).set('If-Match', headers.etag).send({ subject })),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 412]);
    });

    it('renaming onto an existing name is a 409', async () => {
      const a = await create(sut.http, '/models', makeModel());
      const b = await create(sut.http, '/models', makeModel());
      expectProblem(await sut.http.put(`/models/${b.id}`).send({ name: a.name }), 409, 'conflict');
    });

    it('answers 404 for a missing model', async () => {
      expectProblem(await sut.http.put('/models/999999').send({ description: 'x' }), 404, 'not-found');
    });
  });

  describe('DELETE /models/{id}', () => {
    it('deletes and answers 204, then 404', async () => {
      const model = await create(sut.http, '/models', makeModel());
      await sut.http.delete(`/models/${model.id}`).expect(204);
      expectProblem(await sut.http.get(`/models/${model.id}`), 404, 'not-found');
      expectProblem(await sut.http.delete(`/models/${model.id}`), 404, 'not-found');
    });

    it('honours If-Match', async () => {
      const model = await create(sut.http, '/models', makeModel());
      expectProblem(await sut.http.delete(`/models/${model.id}`).set('If-Match', '"stale"'), 412, 'precondition-failed');
      const { headers } = await sut.http.get(`/models/${model.id}`);
      await sut.http.delete(`/models/${model.id}`).set('If-Match', headers.etag).expect(204);
    });
  });

  describe('GET /models', () => {
    let task: string;
    const names: string[] = [];

    beforeAll(async () => {
      task = `listing-${Date.now().toString(36)}`;
      for (let i = 0; i < 7; i++) {
        const model = await create(sut.http, '/models', makeModel({ name: `lst-${task}-${String(i).padStart(2, '0')}`, task, subject: i % 2 ? 'odd' : 'even' }));
        names.push(model.name);
      }
    });

    const pageThrough = async (query: Record<string, string | number>) => {
      const seen: string[] = [];
      let token: string | null = null;
      do {
        const response: { body: { items: { name: string }[]; next_page_token: string | null } } = await sut.http
          .get('/models')
          .query({ ...query, ...(token ? { page_token: token } : {}) })
          .expect(200);
        seen.push(...response.body.items.map((m: { name: string }) => m.name));
        token = response.body.next_page_token;
      } while (token);
      return seen;
    };

    it('pages through every match exactly once, in order', async () => {
      expect(await pageThrough({ task, limit: 3 })).toEqual(names);
      expect(await pageThrough({ task, limit: 2, sort: '-name' })).toEqual([...names].reverse());
      expect(await pageThrough({ task, limit: 4, sort: '-created_at' })).toEqual([...names].reverse());
    });

    it('filters by subject and by name substring', async () => {
      expect(await pageThrough({ task, subject: 'odd' })).toEqual(names.filter((_, i) => i % 2));
      expect(await pageThrough({ q: `${task}-0` })).toEqual(names);
      expect(await pageThrough({ q: '%' })).toEqual([]);
    });

    it('returns the envelope with next_page_token null on the last page', async () => {
      const response = await sut.http.get('/models').query({ task, limit: 100 }).expect(200);
      expect(response.body).toEqual({ items: expect.any(Array), next_page_token: null });
      expect(response.body.items).toHaveLength(7);
    });

    it.each([
      [{ limit: 0 }, 'limit'],
      [{ limit: 101 }, 'limit'],
      [{ limit: 'ten' }, 'limit'],
      [{ sort: 'password' }, 'sort'],
      [{ sort: 'name; DROP TABLE models' }, 'sort'],
      [{ page_token: 'garbage' }, 'page_token'],
      [{ page_token: Buffer.from('{"s":"name","v":"a","i":-1,"f":"x"}').toString('base64url') }, 'page_token'],
      [{ unknown: 'x' }, 'unknown'],
    ])('rejects %j with 400 on %s', async (query, field) => {
      const problem = expectProblem(await sut.http.get('/models').query(query), 400, 'validation-error');
      expect(problem.errors!.map((e) => e.field)).toContain(field);
    });

    it('refuses a page token reused with different filters or sort', async () => {
      const first = await sut.http.get('/models').query({ task, limit: 2 }).expect(200);
      const token = first.body.next_page_token as string;
      expectProblem(await sut.http.get('/models').query({ task, limit: 2, sort: '-name', page_token: token }), 400, 'validation-error');
      expectProblem(await sut.http.get('/models').query({ task, subject: 'odd', limit: 2, page_token: token }), 400, 'validation-error');
      await sut.http.get('/models').query({ task, limit: 5, page_token: token }).expect(200);
    });
  });
});
