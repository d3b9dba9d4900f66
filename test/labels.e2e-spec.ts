import fc from 'fast-check';
import { matchesSelector, formatSelector, parseSelector } from '../src/common/labels/selector';
import { selectorAsJson, selectorCondition } from '../src/common/labels/selector-sql';
import { labelsArbitrary, selectorArbitrary } from './support/label-arbitraries';
import { expectProblem } from './support/problem';
import { create, makeBinding, makeModel, makeVersion } from './support/factories';
import { createTestApp, type TestApp } from './support/test-app';

describe('labels, selectors, lineage and binding catalog fields', () => {
  let sut: TestApp;

  beforeAll(async () => {
    sut = await createTestApp('labels');
  });
  afterAll(() => sut.close());

  describe('labels follow the Kubernetes rules, on create and replaced whole on PUT', () => {
    it('accepts up to 64 labels with prefixed keys and empty values, on models, versions and bindings', async () => {
      const labels = Object.fromEntries(Array.from({ length: 62 }, (_, i) => [`k${i}`, `v${i}`]));
      Object.assign(labels, { 'example.com/team': 'search', empty: '' });
      const model = await create(sut.http, '/models', makeModel({ labels }));
      expect(model.labels).toEqual(labels);
      const version = await create(sut.http, '/versions', makeVersion(model.id, { labels: { stage: 'ga' } }));
      expect((await sut.http.get(`/versions/${version.id}`).expect(200)).body.labels).toEqual({ stage: 'ga' });
      const binding = await create(sut.http, '/bindings', makeBinding(version.id, { labels: { region: 'eu-west-1' } }));
      expect((await sut.http.get(`/bindings/${binding.id}`).expect(200)).body.labels).toEqual({ region: 'eu-west-1' });
      expect((await create(sut.http, '/models', makeModel())).labels).toEqual({});
    });

    it.each([
      ['a key with a space', { 'bad key': 'x' }, /key "bad key" has an invalid name/],
      ['a key starting with "-"', { '-lead': 'x' }, /key "-lead" has an invalid name/],
      ['an upper-case prefix', { 'Upper.Case/name': 'x' }, /key "Upper.Case\/name" has an invalid prefix/],
      ['a 64-character name', { [`${'a'.repeat(64)}`]: 'x' }, /has an invalid name/],
      ['a value with a space', { env: 'has space' }, /value of "env" must be empty or/],
      ['a 64-character value', { env: 'x'.repeat(64) }, /value of "env" must be empty or/],
      ['a number value', { env: 3 }, /value of "env" must be a string/],
      ['a null value', { env: null }, /value of "env" must be a string/],
      ['65 labels', Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])), /at most 64 labels \(got 65\)/],
      ['an array', ['env'], /must be an object/],
      ['null', null, /must be an object/],
      ['a string', 'env=prod', /must be an object/],
    ])('rejects labels with %s: a 400 naming the problem', async (_what, labels, message) => {
      const problem = expectProblem(await sut.http.post('/models').send(makeModel({ labels })), 400, 'validation-error');
      expect(problem.errors).toEqual([{ field: 'labels', message: expect.stringMatching(message) }]);
    });

    it('PUT replaces labels whole, {} clears them, and the ETag and the change feed follow', async () => {
      const model = await create(sut.http, '/models', makeModel({ labels: { a: '1', b: '2' } }));
      const before = await sut.http.get(`/models/${model.id}`).expect(200);
      const replaced = await sut.http.put(`/models/${model.id}`).set('If-Match', before.headers.etag).send({ labels: { c: '3' } }).expect(200);
      expect(replaced.body.labels).toEqual({ c: '3' });
      expect(replaced.headers.etag).not.toBe(before.headers.etag);
      expectProblem(await sut.http.put(`/models/${model.id}`).set('If-Match', before.headers.etag).send({ labels: {} }), 412, 'precondition-failed');
      await sut.http.put(`/models/${model.id}`).send({ description: 'only this' }).expect(200);
      expect((await sut.http.get(`/models/${model.id}`)).body.labels).toEqual({ c: '3' });
      await sut.http.put(`/models/${model.id}`).send({ labels: {} }).expect(200);
      expect((await sut.http.get(`/models/${model.id}`)).body.labels).toEqual({});
      expectProblem(await sut.http.put(`/models/${model.id}`).send({ labels: null }), 400, 'validation-error');
      const { rows } = await sut.db.query(`SELECT data FROM events WHERE type = 'model.updated' AND model_id = $1 ORDER BY id`, [model.id]);
      expect(rows.map((r) => r.data.changed)).toEqual([['labels'], ['description'], ['labels']]);
    });

    it('the database enforces the rules too (a trigger, for writes that bypass the API)', async () => {
      const model = await create(sut.http, '/models', makeModel());
      for (const [table, where] of [
        ['models', `id = ${model.id}`],
        ['model_versions', 'true'],
        ['provider_bindings', 'true'],
      ]) {
        for (const labels of ['{"bad key": "x"}', '{"a": 1}', '[]', `{${Array.from({ length: 65 }, (_, i) => `"k${i}": "v"`).join(',')}}`]) {
          await expect(sut.db.query(`UPDATE ${table} SET labels = $1::jsonb WHERE ${where}`, [labels])).rejects.toMatchObject({ code: '23514', constraint: `ck_${table}_labels` });
        }
      }
      await sut.db.query(`UPDATE models SET labels = '{"example.com/ok": "", "fine": "v-1.2_3"}' WHERE id = $1`, [model.id]);
    });
  });

  describe('lineage and model cards on versions', () => {
    let modelId: number;
    beforeAll(async () => {
      modelId = (await create(sut.http, '/models', makeModel())).id;
    });

    it('stores source and metadata, returns them on reads, replaces metadata whole and reports changes once', async () => {
      const metadata = { summary: 'Support bot', signature: { inputs: [{ name: 'prompt', type: 'string' }] }, evals: { mmlu: 0.86, notes: null } };
      const version = await create(sut.http, '/versions', makeVersion(modelId, { source: 'runs:/3f9a2c1e8b7d/model', metadata }));
      expect(version).toMatchObject({ source: 'runs:/3f9a2c1e8b7d/model', metadata });
      expect((await sut.http.get(`/versions/${version.id}`).expect(200)).body).toMatchObject({ source: 'runs:/3f9a2c1e8b7d/model', metadata });
      expect((await sut.http.get('/versions').query({ model_id: modelId }).expect(200)).body.items[0].metadata).toEqual(metadata);

      await sut.http.put(`/versions/${version.id}`).send({ metadata: { summary: 'v2' }, source: 'git+https://git.example.com/ml/repo@4f2a9c1' }).expect(200);
      await sut.http.put(`/versions/${version.id}`).send({ metadata: { summary: 'v2' } }).expect(200);
      await sut.http.put(`/versions/${version.id}`).send({ source: null }).expect(200);
      const read = (await sut.http.get(`/versions/${version.id}`).expect(200)).body;
      expect(read).toMatchObject({ metadata: { summary: 'v2' }, source: null });
      expect(read).not.toHaveProperty('metadata_digest');
      const { rows } = await sut.db.query(`SELECT data FROM events WHERE type = 'version.updated' AND version_id = $1 ORDER BY id`, [version.id]);
      expect(rows.map((r) => r.data.changed)).toEqual([['source', 'metadata'], ['source']]);
    });

    it.each([
      ['source', 'text without a scheme', 'not a uri'],
      ['source', 'a relative path', 'no-scheme/path'],
      ['source', 'a javascript: URI', 'javascript:alert(1)'],
      ['source', 'a data: URI', 'data:text/plain,x'],
      ['source', 'over 2,048 characters', `s3://bucket/${'k'.repeat(2048)}`],
      ['source', 'a number', 42],
      ['metadata', 'an array', ['a', 'b']],
      ['metadata', 'a string', 'card'],
      ['metadata', 'null', null],
      ['metadata', 'over 64 KiB', { blob: 'x'.repeat(64 * 1024) }],
    ])('rejects %s that is %s with 400', async (field, _what, value) => {
      const problem = expectProblem(await sut.http.post('/versions').send(makeVersion(modelId, { [field]: value })), 400, 'validation-error');
      expect(problem.errors!.map((e) => e.field)).toEqual([field]);
    });

    it.each(['runs:/abc/model', 'models:/churn/3', 's3://bucket/key', 'https://ci.example.com/pipelines/42', 'urn:mlflow:run:abc', 'mlflow-artifacts:/1/2/artifacts'])(
      'accepts the source %s',
      async (source) => {
        expect((await create(sut.http, '/versions', makeVersion(modelId, { source }))).source).toBe(source);
      },
    );

    it('the database keeps metadata an object (a trigger)', async () => {
      await expect(sut.db.query(`UPDATE model_versions SET metadata = '[]' WHERE model_id = $1`, [modelId])).rejects.toMatchObject({
        code: '23514',
        constraint: 'ck_model_versions_metadata',
      });
    });
  });

  describe('pricing, limits and capabilities on bindings', () => {
    let versionId: number;
    beforeAll(async () => {
      const model = await create(sut.http, '/models', makeModel());
      versionId = (await create(sut.http, '/versions', makeVersion(model.id))).id;
    });

    it('stores them; currency defaults to USD; capabilities are a set in the documented order', async () => {
      const binding = await create(
        sut.http,
        '/bindings',
        makeBinding(versionId, {
          pricing: { input_per_1m_tokens: 2.5, output_per_1m_tokens: 10 },
          context_window: 128000,
          max_output_tokens: 16384,
          capabilities: ['vision', 'chat', 'tools', 'chat', 'reasoning'],
        }),
      );
      expect(binding).toMatchObject({
        pricing: { input_per_1m_tokens: 2.5, output_per_1m_tokens: 10, currency: 'USD' },
        context_window: 128000,
        max_output_tokens: 16384,
        capabilities: ['chat', 'tools', 'vision', 'reasoning'],
      });
      const eur = await sut.http.put(`/bindings/${binding.id}`).send({ pricing: { input_per_1m_tokens: 0, output_per_1m_tokens: 0.000001, currency: 'EUR' } }).expect(200);
      expect(eur.body.pricing).toEqual({ input_per_1m_tokens: 0, output_per_1m_tokens: 0.000001, currency: 'EUR' });
      const cleared = await sut.http.put(`/bindings/${binding.id}`).send({ pricing: null, context_window: null, capabilities: [] }).expect(200);
      expect(cleared.body).toMatchObject({ pricing: null, context_window: null, max_output_tokens: 16384, capabilities: [] });
      const { rows } = await sut.db.query(`SELECT data FROM events WHERE type = 'binding.updated' AND binding_id = $1 ORDER BY id`, [binding.id]);
      expect(rows.map((r) => r.data.changed)).toEqual([['pricing'], ['pricing', 'context_window', 'capabilities']]);
    });

    it.each([
      ['pricing', { input_per_1m_tokens: -1, output_per_1m_tokens: 1 }, 'pricing.input_per_1m_tokens'],
      ['pricing', { input_per_1m_tokens: 1 }, 'pricing.output_per_1m_tokens'],
      ['pricing', { input_per_1m_tokens: 1, output_per_1m_tokens: 1, currency: 'usd' }, 'pricing.currency'],
      ['pricing', { input_per_1m_tokens: 1, output_per_1m_tokens: 1, currency: 'XYZ' }, 'pricing.currency'],
      ['pricing', { input_per_1m_tokens: 1, output_per_1m_tokens: 1, discount: 0.1 }, 'pricing.discount'],
      ['pricing', { input_per_1m_tokens: '1', output_per_1m_tokens: 1 }, 'pricing.input_per_1m_tokens'],
      ['pricing', { input_per_1m_tokens: 1e308, output_per_1m_tokens: 1 }, 'pricing.input_per_1m_tokens'],
      ['pricing', 'cheap', 'pricing'],
      ['context_window', 0, 'context_window'],
      ['context_window', 1.5, 'context_window'],
      ['max_output_tokens', 2 ** 31, 'max_output_tokens'],
      ['capabilities', ['chat', 'teleport'], 'capabilities'],
      ['capabilities', 'chat', 'capabilities'],
      ['capabilities', null, 'capabilities'],
    ])('rejects %s = %j with 400 on %s', async (name, value, field) => {
      const problem = expectProblem(await sut.http.post('/bindings').send(makeBinding(versionId, { [name]: value })), 400, 'validation-error');
      expect(problem.errors!.map((e) => e.field)).toContain(field);
    });

    it('the database keeps pricing whole and capabilities in the enum', async () => {
      const binding = await create(sut.http, '/bindings', makeBinding(versionId));
      await expect(sut.db.query('UPDATE provider_bindings SET input_per_1m_tokens = 1 WHERE id = $1', [binding.id])).rejects.toMatchObject({ constraint: 'ck_provider_bindings_pricing' });
      await expect(sut.db.query(`UPDATE provider_bindings SET capabilities = '{chat,teleport}' WHERE id = $1`, [binding.id])).rejects.toMatchObject({
        constraint: 'ck_provider_bindings_capabilities',
      });
    });
  });

  describe('?selector= on lists', () => {
    let modelId: number;
    const version: Record<string, number> = {};
    /** v-a {env: prod, tier: gold} · v-b {env: prod, tier: silver} · v-c {env: dev, tier: gold} · v-d {env: staging} · v-e {} · v-f {tier: ''} */
    beforeAll(async () => {
      const model = await create(sut.http, '/models', makeModel({ name: 'selector-model', labels: { team: 'search', 'example.com/owner': 'ml' } }));
      modelId = model.id;
      await create(sut.http, '/models', makeModel({ name: 'selector-other', labels: { team: 'ads' } }));
      const specs: [string, Record<string, string>][] = [
        ['a', { env: 'prod', tier: 'gold' }],
        ['b', { env: 'prod', tier: 'silver' }],
        ['c', { env: 'dev', tier: 'gold' }],
        ['d', { env: 'staging' }],
        ['e', {}],
        ['f', { tier: '' }],
      ];
      for (const [name, labels] of specs) {
        version[name] = (await create(sut.http, '/versions', makeVersion(model.id, { labels }))).id;
        await create(sut.http, '/bindings', makeBinding(version[name], { provider: name === 'a' ? 'vertex' : 'openai', labels: { ...labels, version: name } }));
      }
    });

    const versions = async (selector: string, query: Record<string, string | number> = {}) => {
      const response = await sut.http.get('/versions').query({ model_id: modelId, sort: 'created_at', selector, ...query });
      expect(response.status).toBe(200);
      return (response.body.items as { id: number }[]).map((item) => Object.entries(version).find(([, id]) => id === item.id)![0]).join('');
    };

    it.each([
      ['env=prod', 'ab'],
      ['env==prod', 'ab'],
      ['env!=prod', 'cdef'],
      ['env in (prod,dev)', 'abc'],
      ['env notin (prod,dev)', 'def'],
      ['tier', 'abcf'],
      ['!tier', 'de'],
      ['tier=', 'f'],
      ['env=prod,tier=gold', 'a'],
      ['env=prod,env=dev', ''],
      ['tier in (gold),env!=dev', 'a'],
      ['!env,!tier', 'e'],
      ['', 'abcdef'],
    ])('versions: %j selects %j', async (selector, expected) => {
      expect(await versions(selector)).toBe(expected);
    });

    it('combines with the other filters and with keyset pagination (a token belongs to its selector)', async () => {
      expect(await versions('tier', { archived: 'false', sort: '-created_at' })).toBe('fcba');
      const first = await sut.http.get('/versions').query({ model_id: modelId, selector: 'env!=staging', sort: 'created_at', limit: 2 }).expect(200);
      const seen = first.body.items.map((i: { id: number }) => i.id);
      let token = first.body.next_page_token;
      while (token) {
        const page = await sut.http.get('/versions').query({ model_id: modelId, selector: 'env!=staging', sort: 'created_at', limit: 2, page_token: token }).expect(200);
        seen.push(...page.body.items.map((i: { id: number }) => i.id));
        token = page.body.next_page_token;
      }
      expect(seen).toEqual(['a', 'b', 'c', 'e', 'f'].map((name) => version[name]));
      const problem = expectProblem(await sut.http.get('/versions').query({ model_id: modelId, selector: 'env=prod', sort: 'created_at', limit: 2, page_token: first.body.next_page_token }), 400, 'validation-error');
      expect(problem.errors![0].field).toBe('page_token');
    });

    it('models and bindings take selectors too', async () => {
      const models = (await sut.http.get('/models').query({ selector: 'team in (search,ads),example.com/owner' }).expect(200)).body.items.map((m: { name: string }) => m.name);
      expect(models).toEqual(['selector-model']);
      const others = (await sut.http.get('/models').query({ selector: 'team!=search', q: 'selector-' }).expect(200)).body.items.map((m: { name: string }) => m.name);
      expect(others).toEqual(['selector-other']);
      const bindings = await sut.http.get('/bindings').query({ model_id: modelId, selector: 'tier=gold', sort: 'created_at' }).expect(200);
      expect(bindings.body.items.map((b: { labels: { version: string } }) => b.labels.version)).toEqual(['a', 'c']);
      const openai = await sut.http.get('/bindings').query({ model_id: modelId, provider: 'openai', selector: 'tier=gold' }).expect(200);
      expect(openai.body.items.map((b: { labels: { version: string } }) => b.labels.version)).toEqual(['c']);
    });

    it.each([
      ['env=prod,', 'at character 10: expected a label key, found the end of the selector'],
      ['env in (prod', 'at character 13: expected "," or ")" in the value set, found the end of the selector'],
      ['env ~ prod', 'at character 5: expected "=", "==", "!=", "in", "notin", "," or the end of the selector after key "env", found "~"'],
      ['env=pr od', 'at character 8: expected "," or the end of the selector, found "od"'],
      ['env>1', 'at character 4: operator ">" is not supported: use =, ==, !=, in, notin, KEY or !KEY'],
    ])('a bad selector %j is a 400 that says where it fails', async (selector, where) => {
      for (const path of ['/models', '/versions', '/bindings']) {
        const problem = expectProblem(await sut.http.get(path).query({ selector }), 400, 'validation-error');
        expect(problem.errors).toEqual([{ field: 'selector', message: `is not a valid label selector ${where}` }]);
        expect(problem.detail).toContain(where);
      }
    });
  });

  describe('property: SQL selection equals the reference evaluator', () => {
    it('selectorCondition and registry_labels_match select exactly what matchesSelector does, over random label sets', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(labelsArbitrary, { minLength: 1, maxLength: 25 }), selectorArbitrary, async (rows, requirements) => {
          const params: unknown[] = [JSON.stringify(rows)];
          const condition = selectorCondition(requirements, 't.labels', (value) => {
            params.push(value);
            return `$${params.length}`;
          });
          const rowsOf = `(SELECT ordinality::int AS id, value AS labels FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY) t`;
          const viaBuilder = await sut.db.query(`SELECT t.id FROM ${rowsOf} ${condition ? `WHERE ${condition}` : ''} ORDER BY t.id`, params);
          const viaFunction = await sut.db.query(`SELECT t.id FROM ${rowsOf} WHERE $2::jsonb IS NULL OR registry_labels_match(t.labels, $2::jsonb) ORDER BY t.id`, [
            params[0],
            selectorAsJson(requirements),
          ]);
          const expected = rows.flatMap((labels, index) => (matchesSelector(requirements, labels) ? [index + 1] : []));
          const context = { selector: formatSelector(requirements) };
          expect({ ...context, ids: viaBuilder.rows.map((r) => r.id) }).toEqual({ ...context, ids: expected });
          expect({ ...context, ids: viaFunction.rows.map((r) => r.id) }).toEqual({ ...context, ids: expected });
        }),
        { numRuns: 150 },
      );
    });

    it('through the API, on indexed tables: GET /versions?selector= equals the evaluator over random labels', async () => {
      const model = await create(sut.http, '/models', makeModel());
      const labelSets = fc.sample(labelsArbitrary, { numRuns: 40, seed: 15 });
      const ids: number[] = [];
      for (const labels of labelSets) ids.push((await create(sut.http, '/versions', makeVersion(model.id, { labels }))).id);
      await fc.assert(
        fc.asyncProperty(selectorArbitrary, async (requirements) => {
          const selector = formatSelector(requirements);
          const response = await sut.http.get('/versions').query({ model_id: model.id, selector, sort: 'created_at', limit: 100 }).expect(200);
          const expected = ids.filter((_, i) => matchesSelector(parseSelector(selector), labelSets[i]));
          expect({ selector, ids: response.body.items.map((v: { id: number }) => v.id) }).toEqual({ selector, ids: expected });
        }),
        { numRuns: 40 },
      );
    });
  });
});
