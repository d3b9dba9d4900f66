import { expectProblem } from './support/problem';
import { create, makeBinding, makeModel, makeVersion } from './support/factories';
import { createTestApp, type TestApp } from './support/test-app';

describe('GET /resolve/{model_name}', () => {
  let sut: TestApp;
  let model: Record<string, any>;
  const v: Record<string, Record<string, any>> = {};

  /**
   * 1.0.0 (us-east-1, cheap, low score, SLO ok) · 1.4.0 (eu-west-1) · 1.5.0-beta.1 · 1.5.0 (SLO not ok) ·
   * 2.0.0 (newest, expensive, only a vertex binding) · 0.9.0 (no active binding).
   */
  beforeAll(async () => {
    sut = await createTestApp('resolve', { env: { RESOLVE_CACHE_MAX_AGE_S: '7' } });
    model = await create(sut.http, '/models', makeModel({ name: 'router-model' }));
    const specs: [string, Record<string, unknown>][] = [
      ['1.0.0', { region: 'us-east-1', cost_per_1k: 0.001, eval_score: 0.6, slo_ok: true }],
      ['1.4.0', { region: 'eu-west-1', cost_per_1k: 0.01, eval_score: 0.9, slo_ok: true }],
      ['1.5.0-beta.1', { region: 'us-east-1', cost_per_1k: 0.01, eval_score: 0.95, slo_ok: true }],
      ['1.5.0', { region: 'us-east-1', cost_per_1k: 0.02, eval_score: 0.93, slo_ok: false }],
      ['2.0.0', { region: 'us-east-1', cost_per_1k: 0.05, eval_score: 0.97, slo_ok: true }],
      ['0.9.0', { region: 'us-east-1', cost_per_1k: 0.001, eval_score: 0.5, slo_ok: true }],
    ];
    for (const [i, [version, spec]] of specs.entries()) {
      v[version] = await create(sut.http, '/versions', makeVersion(model.id, { version, ...spec }));
      await sut.db.query(`UPDATE model_versions SET created_at = '2026-03-01'::timestamptz + ($2 || ' hours')::interval WHERE id = $1`, [v[version].id, i]);
    }
    for (const version of ['1.0.0', '1.4.0', '1.5.0-beta.1', '1.5.0']) {
      await create(sut.http, '/bindings', makeBinding(v[version].id, { provider: 'openai', provider_model_id: `oa-${version}`, success_rate: 0.99, avg_latency_ms: 300 }));
    }
    await create(sut.http, '/bindings', makeBinding(v['1.4.0'].id, { provider: 'bedrock', provider_model_id: 'br-1.4', success_rate: 0.999, avg_latency_ms: 500 }));
    await create(sut.http, '/bindings', makeBinding(v['1.4.0'].id, { provider: 'vertex', provider_model_id: 'vx-1.4', success_rate: 0.999, avg_latency_ms: 200 }));
    await create(sut.http, '/bindings', makeBinding(v['1.4.0'].id, { provider: 'azure-openai', provider_model_id: 'az-1.4', status: 'inactive' }));
    await create(sut.http, '/bindings', makeBinding(v['2.0.0'].id, { provider: 'vertex', provider_model_id: 'vx-2' }));
    await create(sut.http, '/bindings', makeBinding(v['0.9.0'].id, { provider: 'openai', provider_model_id: 'oa-0.9', status: 'deprecated' }));
  });
  afterAll(() => sut.close());

  const resolve = (query: Record<string, string | number | boolean> = {}, name = 'router-model') => sut.http.get(`/resolve/${name}`).query(query);
  const versionOf = async (query: Record<string, string | number | boolean>) => {
    const response = await resolve(query);
    expect(response.status).toBe(200);
    return response.body.version.version as string;
  };

  it('without production alias, falls back to the newest live version with an active binding', async () => {
    const response = await resolve().expect(200);
    expect(response.body).toMatchObject({ model: { id: model.id, name: 'router-model', task: 'generation' }, resolved_by: 'latest', alias: null });
    expect(response.body.version.version).toBe('2.0.0');
  });

  it('follows the production alias when the model has it, and any alias asked for; latest always means newest', async () => {
    await sut.http.put(`/models/${model.id}/aliases/production`).send({ version_id: v['1.4.0'].id }).expect(201);
    await sut.http.put(`/models/${model.id}/aliases/staging`).send({ version_id: v['1.5.0'].id }).expect(201);
    try {
      const production = await resolve().expect(200);
      expect(production.body).toMatchObject({ resolved_by: 'alias', alias: 'production', version: { version: '1.4.0', id: v['1.4.0'].id } });
      expect(await versionOf({ alias: 'staging' })).toBe('1.5.0');
      expect(await versionOf({ alias: 'latest' })).toBe('2.0.0');
      expectProblem(await resolve({ alias: 'canary' }), 404, 'not-found');
    } finally {
      await sut.http.delete(`/models/${model.id}/aliases/production`);
      await sut.http.delete(`/models/${model.id}/aliases/staging`);
    }
  });

  it('resolves an exact version or the highest version matching a SemVer range', async () => {
    expect(await versionOf({ version: '1.0.0' })).toBe('1.0.0');
    expect(await versionOf({ version: '^1.4' })).toBe('1.5.0');
    expect(await versionOf({ version: '~1.4.0' })).toBe('1.4.0');
    expect(await versionOf({ version: '>=1.0.0 <1.5.0' })).toBe('1.4.0');
    expect(await versionOf({ version: '^1.5.0-beta.0' })).toBe('1.5.0');
    expect(await versionOf({ version: '1.5.0-beta.1' })).toBe('1.5.0-beta.1');
    expect(await versionOf({ version: '*' })).toBe('2.0.0');
    expect((await resolve({ version: '^1.4' })).body.resolved_by).toBe('range');
    expectProblem(await resolve({ version: '^3' }), 404, 'not-found');
    expectProblem(await resolve({ version: '0.9.0' }), 404, 'not-found');
    expectProblem(await resolve({ version: 'banana' }), 400, 'validation-error');
    expectProblem(await resolve({ version: `^1.0.0-${'9'.repeat(120)}` }), 400, 'validation-error');
    expectProblem(await resolve({ version: '1.0.0', alias: 'production' }), 400, 'validation-error');
  });

  it('applies every constraint', async () => {
    expect(await versionOf({ provider: 'openai' })).toBe('1.5.0');
    expect(await versionOf({ region: 'eu-west-1' })).toBe('1.4.0');
    expect(await versionOf({ max_cost_per_1k: 0.01 })).toBe('1.5.0-beta.1');
    expect(await versionOf({ min_eval_score: 0.96 })).toBe('2.0.0');
    expect(await versionOf({ require_slo: true, provider: 'openai' })).toBe('1.5.0-beta.1');
    expect(await versionOf({ version: '^1.0', require_slo: true, max_cost_per_1k: 0.01 })).toBe('1.4.0');
    const onlyVertex = await resolve({ provider: 'vertex', version: '~1.4' }).expect(200);
    expect(onlyVertex.body.bindings.map((b: { provider: string }) => b.provider)).toEqual(['vertex']);
  });

  it('ranks active bindings: SLO, then success rate, then latency, then cost, then id; inactive ones are left out', async () => {
    const response = await resolve({ version: '1.4.0' }).expect(200);
    expect(response.body.bindings.map((b: { provider: string; rank: number }) => [b.rank, b.provider])).toEqual([
      [1, 'vertex'],
      [2, 'bedrock'],
      [3, 'openai'],
    ]);
    expect(response.body.bindings[0]).toEqual({
      rank: 1,
      id: expect.any(Number),
      provider: 'vertex',
      provider_model_id: 'vx-1.4',
      endpoint_url: null,
      config: { temperature: 0.7 },
      cost_per_1k: 0.01,
      avg_latency_ms: 200,
      success_rate: 0.999,
      slo_ok: true,
      pricing: null,
      context_window: null,
      max_output_tokens: null,
      capabilities: [],
      labels: {},
    });
  });

  it('says which constraint excluded which versions when nothing matches', async () => {
    const problem = expectProblem(await resolve({ version: '^1.0', region: 'us-east-1', max_cost_per_1k: 0.0005 }), 404, 'not-found');
    expect(problem.considered).toEqual(['1.5.0', '1.4.0', '1.0.0']);
    expect(problem.excluded).toEqual([
      { constraint: 'region', value: 'us-east-1', versions: ['1.4.0'] },
      { constraint: 'max_cost_per_1k', value: 0.0005, versions: ['1.5.0', '1.4.0', '1.0.0'] },
    ]);
    expect(problem.detail).toMatch(/region=us-east-1 excluded 1\.4\.0/);
    const aliased = expectProblem(await resolve({ alias: 'latest', provider: 'anthropic' }), 404, 'not-found');
    // latest considers versions newest first (0.9.0 was registered last).
    expect(aliased.excluded).toEqual([{ constraint: 'provider', value: 'anthropic', versions: ['0.9.0', '2.0.0', '1.5.0', '1.5.0-beta.1', '1.4.0', '1.0.0'] }]);
    expectProblem(await resolve({}, 'no-such-model'), 404, 'not-found');
  });

  it('names the version or range that matched nothing and what it was compared with', async () => {
    const range = expectProblem(await resolve({ version: '^3' }), 404, 'not-found');
    expect(range.detail).toBe('No version of router-model satisfies the request: version ^3 matches none of 2.0.0, 1.5.0, 1.5.0-beta.1, 1.4.0, 1.0.0, 0.9.0.');
    expect(range.excluded).toEqual([{ constraint: 'version', value: '^3', versions: ['2.0.0', '1.5.0', '1.5.0-beta.1', '1.4.0', '1.0.0', '0.9.0'] }]);
    const exact = expectProblem(await resolve({ version: '7.7.7' }), 404, 'not-found');
    expect(exact.detail).toMatch(/version 7\.7\.7 matches none of 2\.0\.0, /);

    const many = await create(sut.http, '/models', makeModel());
    for (let minor = 0; minor < 12; minor++) await create(sut.http, '/versions', makeVersion(many.id, { version: `1.${minor}.0` }));
    const long = expectProblem(await resolve({ version: '>=2' }, many.name), 404, 'not-found');
    expect(long.detail).toBe(`No version of ${many.name} satisfies the request: version >=2 matches none of 1.11.0, 1.10.0, 1.9.0, 1.8.0, 1.7.0, 1.6.0, 1.5.0, 1.4.0, 1.3.0, 1.2.0, ….`);
    const empty = await create(sut.http, '/models', makeModel());
    expect(expectProblem(await resolve({ version: '^1' }, empty.name), 404, 'not-found').detail).toBe(`No version of ${empty.name} satisfies the request: version ^1 matches no live version.`);
  });

  it('answers with an ETag derived from the data and Cache-Control, and 304 when unchanged', async () => {
    const first = await resolve({ version: '1.0.0' }).expect(200);
    expect(first.headers['cache-control']).toBe('max-age=7');
    await resolve({ version: '1.0.0' }).set('If-None-Match', first.headers.etag).expect(304);
    const binding = first.body.bindings[0];
    await sut.http.post(`/bindings/${binding.id}/usage`).send({ latency_ms: 5, success: true }).expect(200);
    const changed = await resolve({ version: '1.0.0' }).set('If-None-Match', first.headers.etag).expect(200);
    expect(changed.headers.etag).not.toBe(first.headers.etag);
  });

  describe('labels, capabilities and prices', () => {
    const id: Record<string, number> = {};
    const usd = (input: number, output: number) => ({ input_per_1m_tokens: input, output_per_1m_tokens: output, currency: 'USD' });

    /** 1.0.0 (stage=ga): openai (us, chat+tools, $10), azure (eu, +vision, $5), vertex (eu, chat, unpriced) · 1.1.0 (stage=beta, newest): openai (us, all, $1). */
    beforeAll(async () => {
      const priced = await create(sut.http, '/models', makeModel({ name: 'priced-model', labels: { team: 'search' } }));
      const ga = await create(sut.http, '/versions', makeVersion(priced.id, { version: '1.0.0', labels: { stage: 'ga' } }));
      const beta = await create(sut.http, '/versions', makeVersion(priced.id, { version: '1.1.0', labels: { stage: 'beta', exp: 'e7' } }));
      await sut.db.query(`UPDATE model_versions SET created_at = created_at - interval '1 hour' WHERE id = $1`, [ga.id]);
      const binding = async (name: string, versionId: number, extra: Record<string, unknown>) => {
        id[name] = (await create(sut.http, '/bindings', makeBinding(versionId, { provider: name.split('-')[0], provider_model_id: name, ...extra }))).id;
      };
      await binding('openai-ga', ga.id, { labels: { region: 'us' }, capabilities: ['tools', 'chat'], pricing: usd(10, 30) });
      await binding('azure-ga', ga.id, { labels: { region: 'eu' }, capabilities: ['chat', 'tools', 'vision'], pricing: usd(5, 15) });
      await binding('vertex-ga', ga.id, { labels: { region: 'eu' }, capabilities: ['chat'] });
      await binding('openai-beta', beta.id, { labels: { region: 'us' }, capabilities: ['chat', 'tools', 'vision'], pricing: usd(1, 2), context_window: 128000 });
    });

    const pick = async (query: Record<string, string | number>) => {
      const response = await resolve(query, 'priced-model');
      expect(response.status).toBe(200);
      return [response.body.version.version as string, (response.body.bindings as { provider_model_id: string }[]).map((b) => b.provider_model_id)];
    };

    it('selector constrains the candidate versions, with every operator', async () => {
      expect(await pick({})).toEqual(['1.1.0', ['openai-beta']]);
      expect((await pick({ selector: 'stage=ga' }))[0]).toBe('1.0.0');
      expect((await pick({ selector: 'stage==beta' }))[0]).toBe('1.1.0');
      expect((await pick({ selector: 'stage!=beta' }))[0]).toBe('1.0.0');
      expect((await pick({ selector: 'stage in (ga,rc)' }))[0]).toBe('1.0.0');
      expect((await pick({ selector: 'stage notin (beta)' }))[0]).toBe('1.0.0');
      expect((await pick({ selector: 'exp' }))[0]).toBe('1.1.0');
      expect((await pick({ selector: '!exp,stage' }))[0]).toBe('1.0.0');
      const body = (await resolve({ selector: 'stage=beta' }, 'priced-model').expect(200)).body;
      expect(body.version.labels).toEqual({ stage: 'beta', exp: 'e7' });
    });

    it('binding_selector, capability and max_input_cost_per_1m constrain the bindings (and so the version)', async () => {
      expect(await pick({ binding_selector: 'region=eu' })).toEqual(['1.0.0', ['azure-ga', 'vertex-ga']]);
      expect(await pick({ capability: 'tools,vision' })).toEqual(['1.1.0', ['openai-beta']]);
      expect(await pick({ capability: 'vision,tools', selector: 'stage=ga' })).toEqual(['1.0.0', ['azure-ga']]);
      expect(await pick({ max_input_cost_per_1m: 6, selector: 'stage=ga' })).toEqual(['1.0.0', ['azure-ga']]);
      expect(await pick({ max_input_cost_per_1m: 1 })).toEqual(['1.1.0', ['openai-beta']]);
      const problem = expectProblem(await resolve({ max_input_cost_per_1m: 1, currency: 'EUR' }, 'priced-model'), 404, 'not-found');
      expect(problem.excluded).toEqual([{ constraint: 'max_input_cost_per_1m', value: 1, versions: ['1.1.0', '1.0.0'] }]);
    });

    it('ranks the cheaper binding first when everything else ties, and returns pricing, limits and capabilities', async () => {
      const response = await resolve({ selector: 'stage=ga' }, 'priced-model').expect(200);
      expect(response.body.bindings.map((b: { rank: number; provider_model_id: string }) => [b.rank, b.provider_model_id])).toEqual([
        [1, 'azure-ga'],
        [2, 'openai-ga'],
        [3, 'vertex-ga'],
      ]);
      expect(response.body.bindings[0]).toMatchObject({ pricing: usd(5, 15), capabilities: ['chat', 'tools', 'vision'], labels: { region: 'eu' }, context_window: null });
      // A faster binding still wins over a cheaper one: price only breaks ties.
      await sut.http.post(`/bindings/${id['openai-ga']}/usage`).send({ latency_ms: 100, success: true }).expect(200);
      await sut.http.post(`/bindings/${id['azure-ga']}/usage`).send({ latency_ms: 900, success: true }).expect(200);
      try {
        expect((await pick({ selector: 'stage=ga' }))[1]).toEqual(['openai-ga', 'azure-ga', 'vertex-ga']);
      } finally {
        await sut.db.query('UPDATE provider_bindings SET avg_latency_ms = NULL, success_rate = NULL WHERE id = ANY($1)', [[id['openai-ga'], id['azure-ga']]]);
      }
    });

    it('the 404 explanation covers the new constraints', async () => {
      const problem = expectProblem(await resolve({ selector: 'stage=ga', capability: 'vision', binding_selector: 'region=us' }, 'priced-model'), 404, 'not-found');
      expect(problem.considered).toEqual(['1.1.0', '1.0.0']);
      expect(problem.excluded).toEqual([
        { constraint: 'selector', value: 'stage=ga', versions: ['1.1.0'] },
        { constraint: 'binding_constraints', versions: ['1.0.0'] },
      ]);
      expect(problem.detail).toMatch(/selector=stage=ga excluded 1\.1\.0; binding_constraints excluded 1\.0\.0/);
      const none = expectProblem(await resolve({ capability: 'audio', binding_selector: 'region=mars' }, 'priced-model'), 404, 'not-found');
      expect(none.excluded).toEqual([
        { constraint: 'binding_selector', value: 'region=mars', versions: ['1.1.0', '1.0.0'] },
        { constraint: 'capability', value: 'audio', versions: ['1.1.0', '1.0.0'] },
      ]);
    });

    it.each([
      [{ selector: 'stage in ga' }, 'selector', /at character 10: expected "\(" after "in"/],
      [{ binding_selector: 'region=' + 'x'.repeat(64) }, 'binding_selector', /at character 8: label value/],
      [{ capability: 'tools,teleport' }, 'capability', /each must be one of chat, completion/],
      [{ max_input_cost_per_1m: 'cheap' }, 'max_input_cost_per_1m', /number/],
      [{ currency: 'usd' }, 'currency', /ISO 4217/],
    ])('rejects %j with a 400 that says what is wrong', async (query, field, message) => {
      const problem = expectProblem(await resolve(query, 'priced-model'), 400, 'validation-error');
      expect(problem.errors!.map((e) => e.field)).toEqual(expect.arrayContaining([field]));
      expect(problem.errors).toContainEqual({ field, message: expect.stringMatching(message) });
    });
  });

  it.each([
    [{ min_eval_score: 2 }, 'min_eval_score'],
    [{ max_cost_per_1k: -1 }, 'max_cost_per_1k'],
    [{ require_slo: 'yes' }, 'require_slo'],
    [{ provider: 'Open AI' }, 'provider'],
    [{ alias: 'Prod' }, 'alias'],
    [{ color: 'red' }, 'color'],
  ])('rejects %j with 400', async (query, field) => {
    const problem = expectProblem(await resolve(query as Record<string, string | number>), 400, 'validation-error');
    expect(problem.errors!.map((e) => e.field)).toContain(field);
  });
});
