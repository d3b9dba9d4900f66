import { parse } from 'yaml';
import { expectProblem } from './support/problem';
import { create, makeBinding, makeModel, makeVersion } from './support/factories';
import { createTestApp, type TestApp } from './support/test-app';

const usd = (input: number, output: number) => ({ input_per_1m_tokens: input, output_per_1m_tokens: output, currency: 'USD' });

describe('gateway catalogs', () => {
  let sut: TestApp;
  const id: Record<string, number> = {};

  /**
   * chat-large (team=search): 1.0.0 (production alias) with openai gpt-4o (tier=gold) and azure gpt-4o-eu
   * (tier=silver, region=eu, team=ads: overrides the model's), and an inactive vertex binding; 2.0.0
   * (newest) with openai gpt-4o-2. embedder (team=ads): 1.0.0 with openai text-embedding-3-small.
   * idle: a version without an active binding.
   */
  beforeAll(async () => {
    sut = await createTestApp('catalog');
    const chat = await create(sut.http, '/models', makeModel({ name: 'chat-large', description: 'Large chat model', labels: { team: 'search' } }));
    const v1 = await create(sut.http, '/versions', makeVersion(chat.id, { version: '1.0.0', labels: { stage: 'ga' } }));
    const v2 = await create(sut.http, '/versions', makeVersion(chat.id, { version: '2.0.0' }));
    await sut.db.query(`UPDATE model_versions SET created_at = '2026-01-01T00:00:00Z' WHERE id = $1`, [v1.id]);
    const binding = async (name: string, versionId: number, body: Record<string, unknown>) => {
      id[name] = (await create(sut.http, '/bindings', makeBinding(versionId, { provider_model_id: name, config: {}, ...body }))).id;
    };
    await binding('gpt-4o', v1.id, {
      provider: 'openai',
      pricing: usd(2.5, 10),
      context_window: 128000,
      max_output_tokens: 16384,
      capabilities: ['chat', 'tools', 'vision', 'streaming'],
      labels: { tier: 'gold' },
    });
    await binding('gpt-4o-eu', v1.id, {
      provider: 'azure-openai',
      endpoint_url: 'https://eu.example.com/openai',
      pricing: usd(2.75, 11),
      context_window: 64000,
      capabilities: ['chat'],
      labels: { tier: 'silver', region: 'eu', team: 'ads' },
    });
    await binding('gemini-old', v1.id, { provider: 'vertex', status: 'inactive' });
    await binding('gpt-4o-2', v2.id, { provider: 'openai' });
    await sut.http.put(`/models/${chat.id}/aliases/production`).send({ version_id: v1.id }).expect(201);

    const embedder = await create(sut.http, '/models', makeModel({ name: 'embedder', task: 'embedding', description: null, labels: { team: 'ads' } }));
    const e1 = await create(sut.http, '/versions', makeVersion(embedder.id, { version: '1.0.0' }));
    await binding('text-embedding-3-small', e1.id, { provider: 'openai', pricing: usd(0.02, 0), context_window: 8191, capabilities: ['embeddings'] });

    const idle = await create(sut.http, '/models', makeModel({ name: 'idle' }));
    const i1 = await create(sut.http, '/versions', makeVersion(idle.id));
    await binding('idle-1', i1.id, { provider: 'openai', status: 'deprecated' });
  });
  afterAll(() => sut.close());

  describe('GET /catalog/litellm', () => {
    const litellm = (query: Record<string, string> = {}) => sut.http.get('/catalog/litellm').query(query);
    const names = (body: { model_list: { litellm_params: { model: string } }[] }) => body.model_list.map((d) => d.litellm_params.model);

    it('is a LiteLLM model_list: one deployment per active binding of the version each model routes to', async () => {
      const response = await litellm().expect(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.headers.etag).toBeDefined();
      expect(response.body.model_list).toEqual([
        {
          model_name: 'chat-large',
          litellm_params: { model: 'openai/gpt-4o' },
          model_info: {
            id: `registry-binding-${id['gpt-4o']}`,
            mode: 'chat',
            input_cost_per_token: 0.0000025,
            output_cost_per_token: 0.00001,
            max_tokens: 16384,
            max_input_tokens: 128000,
            max_output_tokens: 16384,
            supports_function_calling: true,
            supports_tool_choice: true,
            supports_vision: true,
            supports_response_schema: false,
            supports_reasoning: false,
            supports_audio_input: false,
            supports_audio_output: false,
            supports_native_streaming: true,
          },
        },
        {
          model_name: 'chat-large',
          litellm_params: { model: 'azure/gpt-4o-eu', api_base: 'https://eu.example.com/openai' },
          model_info: expect.objectContaining({ id: `registry-binding-${id['gpt-4o-eu']}`, input_cost_per_token: 0.00000275, output_cost_per_token: 0.000011, max_tokens: 64000 }),
        },
        {
          model_name: 'embedder',
          litellm_params: { model: 'openai/text-embedding-3-small' },
          model_info: expect.objectContaining({ mode: 'embedding', input_cost_per_token: 0.00000002, output_cost_per_token: 0, max_input_tokens: 8191 }),
        },
      ]);
      await litellm().set('If-None-Match', response.headers.etag).expect(304);
    });

    it('describes the version an alias names, or the newest with alias=latest', async () => {
      expect(names((await litellm({ alias: 'latest' }).expect(200)).body)).toEqual(['openai/gpt-4o-2', 'openai/text-embedding-3-small']);
      expect(names((await litellm({ alias: 'production' }).expect(200)).body)).toEqual(['openai/gpt-4o', 'azure/gpt-4o-eu']);
      expect((await litellm({ alias: 'canary' }).expect(200)).body).toEqual({ model_list: [] });
    });

    it('filters by selector over binding labels, then version labels, then model labels', async () => {
      expect(names((await litellm({ selector: 'team=search' }).expect(200)).body)).toEqual(['openai/gpt-4o']);
      expect(names((await litellm({ selector: 'team=ads' }).expect(200)).body)).toEqual(['azure/gpt-4o-eu', 'openai/text-embedding-3-small']);
      expect(names((await litellm({ selector: 'tier in (gold,silver),stage=ga' }).expect(200)).body)).toEqual(['openai/gpt-4o', 'azure/gpt-4o-eu']);
      expect(names((await litellm({ selector: '!region,team' }).expect(200)).body)).toEqual(['openai/gpt-4o', 'openai/text-embedding-3-small']);
      expect(names((await litellm({ selector: 'tier!=gold' }).expect(200)).body)).toEqual(['azure/gpt-4o-eu', 'openai/text-embedding-3-small']);
      expect(names((await litellm({ selector: 'tier notin (silver),team' }).expect(200)).body)).toEqual(['openai/gpt-4o', 'openai/text-embedding-3-small']);
    });

    it('answers YAML with format=yaml: the same document, numbers as plain decimals PyYAML reads as floats', async () => {
      const json = (await litellm().expect(200)).body;
      const response = await litellm({ format: 'yaml' }).expect(200);
      expect(response.headers['content-type']).toMatch(/^application\/yaml/);
      expect(response.text).toMatch(/^model_list:\n {2}- model_name: chat-large\n/);
      expect(response.text).toContain('input_cost_per_token: 0.00000002\n');
      expect(response.text).not.toMatch(/\d[eE]-?\d/);
      expect(parse(response.text)).toEqual(json);
    });

    it.each([
      [{ selector: 'team in (search' }, 'selector', /at character 16/],
      [{ format: 'xml' }, 'format', /json, yaml/],
      [{ alias: 'Prod' }, 'alias', /slug/],
    ])('rejects %j with 400', async (query, field, message) => {
      const problem = expectProblem(await litellm(query), 400, 'validation-error');
      expect(problem.errors).toEqual([{ field, message: expect.stringMatching(message) }]);
    });
  });

  describe('GET /catalog/openrouter', () => {
    it("has the shape of OpenRouter's /models: one entry per model, lowest USD price per token as strings", async () => {
      const response = await sut.http.get('/catalog/openrouter').expect(200);
      expect(response.headers.etag).toBeDefined();
      expect(response.body).toEqual({
        data: [
          {
            id: 'chat-large',
            canonical_slug: 'chat-large',
            name: 'chat-large',
            created: Date.parse('2026-01-01T00:00:00Z') / 1000,
            description: 'Large chat model',
            context_length: 128000,
            architecture: { modality: 'text+image->text', input_modalities: ['text', 'image'], output_modalities: ['text'], tokenizer: 'Other', instruct_type: null },
            pricing: { prompt: '0.0000025', completion: '0.00001' },
            top_provider: { context_length: 128000, max_completion_tokens: 16384, is_moderated: false },
            per_request_limits: null,
            supported_parameters: ['tools', 'tool_choice'],
          },
          {
            id: 'embedder',
            canonical_slug: 'embedder',
            name: 'embedder',
            created: expect.any(Number),
            description: '',
            context_length: 8191,
            architecture: { modality: 'text->embeddings', input_modalities: ['text'], output_modalities: ['embeddings'], tokenizer: 'Other', instruct_type: null },
            pricing: { prompt: '0.00000002', completion: '0' },
            top_provider: { context_length: 8191, max_completion_tokens: null, is_moderated: false },
            per_request_limits: null,
            supported_parameters: [],
          },
        ],
      });
    });

    it('top_provider is the binding resolve ranks first; selector and alias filter as for LiteLLM', async () => {
      await sut.http.post(`/bindings/${id['gpt-4o-eu']}/usage`).send({ latency_ms: 50, success: true }).expect(200);
      await sut.http.post(`/bindings/${id['gpt-4o']}/usage`).send({ latency_ms: 900, success: true }).expect(200);
      try {
        const [chat] = (await sut.http.get('/catalog/openrouter').expect(200)).body.data;
        expect(chat.top_provider).toEqual({ context_length: 64000, max_completion_tokens: null, is_moderated: false });
        expect(chat.pricing).toEqual({ prompt: '0.0000025', completion: '0.00001' });
      } finally {
        await sut.db.query('UPDATE provider_bindings SET avg_latency_ms = NULL, success_rate = NULL WHERE id = ANY($1)', [[id['gpt-4o'], id['gpt-4o-eu']]]);
      }
      const ads = (await sut.http.get('/catalog/openrouter').query({ selector: 'team=ads' }).expect(200)).body.data;
      expect(ads.map((m: { id: string; pricing: unknown }) => [m.id, m.pricing])).toEqual([
        ['chat-large', { prompt: '0.00000275', completion: '0.000011' }],
        ['embedder', { prompt: '0.00000002', completion: '0' }],
      ]);
      const latest = (await sut.http.get('/catalog/openrouter').query({ alias: 'latest', selector: 'team=search' }).expect(200)).body.data;
      expect(latest).toEqual([expect.objectContaining({ id: 'chat-large', context_length: null, supported_parameters: [] })]);
      expect(latest[0].pricing).toBeUndefined();
    });
  });

  describe('POST /catalog/import', () => {
    const document = {
      sample_spec: { input_cost_per_token: 0, litellm_provider: 'one of https://docs.litellm.ai/docs/providers', max_input_tokens: 'max input tokens' },
      'imp-gpt-4o': {
        litellm_provider: 'openai',
        mode: 'chat',
        input_cost_per_token: 2.5e-6,
        output_cost_per_token: 1e-5,
        max_input_tokens: 128000,
        max_output_tokens: 16384,
        max_tokens: 16384,
        supports_function_calling: true,
        supports_vision: true,
        supports_response_schema: true,
      },
      'azure/imp-gpt-4o': { litellm_provider: 'azure', mode: 'chat', input_cost_per_token: 2.75e-6, output_cost_per_token: 1.1e-5, max_input_tokens: 128000 },
      'imp-embed': { litellm_provider: 'openai', mode: 'embedding', input_cost_per_token: 2e-8, max_input_tokens: 8191 },
      'imp-claude': { litellm_provider: 'anthropic', mode: 'chat', input_cost_per_token: 3e-6, output_cost_per_token: 1.5e-5 },
      'unrelated-model': { litellm_provider: 'openai', input_cost_per_token: 1e-6 },
    };
    let versionId: number;
    const binding = async (provider: string, providerModelId: string, extra: Record<string, unknown> = {}) =>
      (await create(sut.http, '/bindings', makeBinding(versionId, { provider, provider_model_id: providerModelId, config: { keep: true }, ...extra }))).id as number;
    const read = async (bindingId: number) => (await sut.http.get(`/bindings/${bindingId}`).expect(200)).body;
    const post = (body: unknown, query: Record<string, string> = {}) => sut.http.post('/catalog/import').query(query).send(body as object);

    beforeAll(async () => {
      const model = await create(sut.http, '/models', makeModel({ name: 'import-target' }));
      versionId = (await create(sut.http, '/versions', makeVersion(model.id))).id;
      id.openai = await binding('openai', 'imp-gpt-4o', { capabilities: ['streaming'], labels: { keep: 'me' } });
      id.azure = await binding('azure-openai', 'imp-gpt-4o', { status: 'inactive' });
      id.embed = await binding('openai', 'imp-embed', { pricing: usd(1, 1), context_window: 100 });
      // The bare key imp-claude is an anthropic entry: it does not price a bedrock deployment.
      id.bedrock = await binding('bedrock', 'imp-claude');
      id.untouched = await binding('openai', 'imp-not-in-file', { pricing: usd(9, 9) });
    });

    it('a dry run reports what would change and changes nothing', async () => {
      const before = await Promise.all([id.openai, id.azure, id.embed, id.bedrock, id.untouched].map(read));
      const events = (await sut.db.query('SELECT count(*)::int AS n FROM events')).rows[0].n;
      const report = (await post(document, { dry_run: 'true' }).expect(200)).body;
      expect(report).toMatchObject({
        dry_run: true,
        entries: 5,
        invalid_entries: 0,
        matched_entries: 3,
        matched_bindings: 3,
        updated_bindings: 3,
        unchanged_bindings: 0,
        bindings_truncated: false,
        warnings: [],
        warnings_truncated: false,
      });
      expect(report.bindings).toEqual([
        {
          binding_id: id.openai,
          model_id: expect.any(Number),
          version_id: versionId,
          provider: 'openai',
          provider_model_id: 'imp-gpt-4o',
          key: 'imp-gpt-4o',
          changed: ['pricing', 'context_window', 'max_output_tokens', 'capabilities'],
          pricing: usd(2.5, 10),
          context_window: 128000,
          max_output_tokens: 16384,
          capabilities: ['chat', 'tools', 'vision', 'json_mode', 'streaming'],
        },
        expect.objectContaining({ binding_id: id.azure, key: 'azure/imp-gpt-4o', changed: ['pricing', 'context_window', 'capabilities'], pricing: usd(2.75, 11) }),
        expect.objectContaining({ binding_id: id.embed, key: 'imp-embed', pricing: usd(0.02, 0), context_window: 8191, capabilities: ['embeddings'] }),
      ]);
      expect(await Promise.all([id.openai, id.azure, id.embed, id.bedrock, id.untouched].map(read))).toEqual(before);
      expect((await sut.db.query('SELECT count(*)::int AS n FROM events')).rows[0].n).toBe(events);
    });

    it('a real run applies the same report, touches nothing else, and a second run changes nothing', async () => {
      const dry = (await post(document, { dry_run: 'true' }).expect(200)).body;
      const untouched = await read(id.untouched);
      const bedrock = await read(id.bedrock);
      const report = (await post(document).expect(200)).body;
      expect(report).toEqual({ ...dry, dry_run: false });

      const openai = await read(id.openai);
      expect(openai).toMatchObject({
        pricing: usd(2.5, 10),
        context_window: 128000,
        max_output_tokens: 16384,
        capabilities: ['chat', 'tools', 'vision', 'json_mode', 'streaming'],
        labels: { keep: 'me' },
        config: { keep: true },
        status: 'active',
      });
      expect(await read(id.azure)).toMatchObject({ status: 'inactive', pricing: usd(2.75, 11), context_window: 128000, max_output_tokens: null, capabilities: ['chat'] });
      expect(await read(id.untouched)).toEqual(untouched);
      expect(await read(id.bedrock)).toEqual(bedrock);
      const { rows } = await sut.db.query(`SELECT binding_id, data FROM events WHERE type = 'binding.updated' AND binding_id = $1`, [id.openai]);
      expect(rows).toEqual([{ binding_id: id.openai, data: { changed: ['pricing', 'context_window', 'max_output_tokens', 'capabilities'] } }]);

      const again = (await post(document).expect(200)).body;
      expect(again).toMatchObject({ matched_bindings: 3, updated_bindings: 0, unchanged_bindings: 3 });
      expect(again.bindings.map((b: { changed: string[] }) => b.changed)).toEqual([[], [], []]);
    });

    it('survives hostile input: odd types and huge numbers are reported and ignored, never a 500', async () => {
      const target = await binding('openai', 'imp-odd');
      const body =
        '{"imp-odd": {"litellm_provider": "openai", "input_cost_per_token": 1e400, "output_cost_per_token": "0.1", "max_input_tokens": -5,' +
        ' "max_output_tokens": 4096.5, "supports_vision": "yes", "mode": 7, "supports_reasoning": true}, "imp-list": [1, 2], "n": 5, "s": "x", "z": null}';
      const report = (await sut.http.post('/catalog/import').set('Content-Type', 'application/json').send(body).expect(200)).body;
      expect(report).toMatchObject({ entries: 5, invalid_entries: 4, matched_bindings: 1, updated_bindings: 1 });
      expect(report.warnings.map((w: { key: string; message: string }) => `${w.key}: ${w.message}`)).toEqual([
        'imp-odd: input_cost_per_token: must be a number from 0 to 1 (ignored)',
        'imp-odd: output_cost_per_token: must be a number from 0 to 1 (ignored)',
        'imp-odd: max_input_tokens: must be an integer from 1 to 1000000000 (ignored)',
        'imp-odd: max_output_tokens: must be an integer from 1 to 1000000000 (ignored)',
        'imp-odd: mode: must be a string (ignored)',
        'imp-odd: supports_vision: must be true or false (ignored)',
      ]);
      expect(await read(target)).toMatchObject({ pricing: null, context_window: null, max_output_tokens: null, capabilities: ['reasoning'] });
    });

    it.each([
      ['an array', '[{"gpt-4o": {}}]'],
      ['a string', '"model_prices"'],
      ['null', 'null'],
    ])('a body that is %s is a 400', async (_what, body) => {
      expectProblem(await sut.http.post('/catalog/import').set('Content-Type', 'application/json').send(body), 400, 'validation-error');
    });

    it('rejects prototype pollution and deep nesting with 400', async () => {
      expect((await sut.http.post('/catalog/import').set('Content-Type', 'application/json').send('{"__proto__": {"polluted": true}}')).status).toBe(400);
      const deep = `{"x": ${'{"a":'.repeat(100)}1${'}'.repeat(100)}}`;
      expectProblem(await sut.http.post('/catalog/import').set('Content-Type', 'application/json').send(deep), 400, 'validation-error');
    });

    it('takes 100,000 keys (a body over 1 MiB) and matches the one that fits; over 5 MiB is a 413', async () => {
      const target = await binding('openai', 'imp-needle');
      const entries: Record<string, unknown> = {};
      for (let i = 0; i < 100_000; i++) entries[`k${i}`] = i % 10 === 0 ? i : {};
      entries['imp-needle'] = { litellm_provider: 'openai', input_cost_per_token: 1e-7, output_cost_per_token: 4e-7 };
      entries['x'.repeat(100_000)] = { litellm_provider: 'openai' };
      const body = JSON.stringify(entries);
      expect(body.length).toBeGreaterThan(1024 * 1024);
      const report = (await post(entries).expect(200)).body;
      expect(report).toMatchObject({ entries: 100_002, invalid_entries: 10_000, matched_bindings: 1, updated_bindings: 1 });
      expect((await read(target)).pricing).toEqual(usd(0.1, 0.4));

      const huge = JSON.stringify({ big: { description: 'x'.repeat(5 * 1024 * 1024) } });
      const problem = expectProblem(await sut.http.post('/catalog/import').set('Content-Type', 'application/json').send(huge), 413, 'payload-too-large');
      expect(problem.detail).toBe('The request body is larger than the 5 MiB limit.');
      // The rest of the API keeps its 1 MiB limit.
      const other = expectProblem(await sut.http.post('/models').send(makeModel({ description: 'x'.repeat(1024 * 1024 + 10) })), 413, 'payload-too-large');
      expect(other.detail).toBe('The request body is larger than the 1 MiB limit.');
    });

    it('rejects a bad dry_run with 400', async () => {
      const problem = expectProblem(await post(document, { dry_run: 'maybe' }), 400, 'validation-error');
      expect(problem.errors).toEqual([{ field: 'dry_run', message: 'must be true or false' }]);
    });
  });
});
