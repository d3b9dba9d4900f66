import {
  createRegistryClient,
  ifMatch,
  ifNoneMatch,
  isProblem,
  paginate,
  ProblemError,
  revalidate,
  unwrap,
  withEtag,
  type RegistryClient,
  type Version,
} from '@model-registry/client';
import { contractCheckedFetch } from './support/contract';
import { sha256 } from './support/factories';
import { authEnv, BOOTSTRAP_KEY } from './support/auth';
import { createTestApp, type TestApp } from './support/test-app';

/**
 * The brief's flows through the published TypeScript client (clients/typescript), over real HTTP, with
 * every response also checked against openapi.json.
 */
describe('@model-registry/client against the service', () => {
  let sut: TestApp;
  let api: RegistryClient;
  const sentAuthorization: (string | null)[] = [];

  beforeAll(async () => {
    // Authentication on, as in production: the client sends its token on every request.
    sut = await createTestApp('client', { env: authEnv() });
    await sut.app.listen({ port: 0, host: '127.0.0.1' });
    const checked = contractCheckedFetch();
    api = createRegistryClient({
      baseUrl: `${await sut.app.getUrl()}/`,
      token: () => BOOTSTRAP_KEY,
      fetch: (request) => {
        sentAuthorization.push(request.headers.get('authorization'));
        return checked(request);
      },
    });
  });
  afterAll(() => sut.close());

  const unique = (name: string) => `${name}-${process.pid}-${Date.now().toString(36)}`;

  it('drives the flows: model, version, idempotent re-register, binding, alias, resolve, usage, retention dry run, stats', async () => {
    const model = await unwrap(api.POST('/models', { body: { name: unique('client-flow'), task: 'generation', description: 'Through the typed client' } }));
    expect(model).toMatchObject({ task: 'generation', subject: 'general', aliases: {} });

    const registration = { model_id: model.id, hash: sha256(model.name), version: '1.0.0', region: 'us-east-1', cost_per_1k: 0.01, eval_score: 0.92 };
    const created = await api.POST('/versions', { body: registration });
    expect(created.response.status).toBe(201);
    const again = await api.POST('/versions', { body: registration });
    expect(again.response.status).toBe(200);
    const version = await unwrap(Promise.resolve(again));
    expect(version.id).toBe((await unwrap(Promise.resolve(created))).id);

    const binding = await unwrap(api.POST('/bindings', { body: { version_id: version.id, provider: 'openai', provider_model_id: 'gpt-4-0125-preview', config: { temperature: 0.7 } } }));
    expect(binding.status).toBe('active');

    const alias = await unwrap(api.PUT('/models/{id}/aliases/{alias}', { params: { path: { id: model.id, alias: 'production' } }, body: { version_id: version.id } }));
    expect(alias.version_id).toBe(version.id);

    const resolved = await unwrap(api.GET('/resolve/{model_name}', { params: { path: { model_name: model.name } } }));
    expect({ version: resolved.version.id, by: resolved.resolved_by, binding: resolved.bindings[0]?.id }).toEqual({ version: version.id, by: 'alias', binding: binding.id });

    const used = await unwrap(api.POST('/bindings/{id}/usage', { params: { path: { id: binding.id } }, body: { samples: [{ latency_ms: 420, success: true }, { success: false }] } }));
    expect(used.usage_samples).toBe(2);

    const dryRun = await unwrap(api.POST('/retention/apply', { body: { model_id: model.id, dry_run: true } }));
    expect({ dry_run: dryRun.dry_run, archived: dryRun.totals.archived }).toEqual({ dry_run: true, archived: 0 });

    const stats = await unwrap(api.GET('/stats', { params: { query: { model_id: model.id } } }));
    expect({ versions: stats.versions.total, bindings: stats.bindings.total }).toEqual({ versions: 1, bindings: 1 });
    expect(sentAuthorization.every((header) => header === `Bearer ${BOOTSTRAP_KEY}`)).toBe(true);
  });

  it('handles a 404, a 409 and a 412 through the typed problem error, extension members included', async () => {
    const missing = await unwrap(api.GET('/models/{id}', { params: { path: { id: 987654321 } } })).catch((error: unknown) => error);
    expect(isProblem(missing, 'not-found') && missing.problem.resource).toBe('model');

    const model = await unwrap(api.POST('/models', { body: { name: unique('client-errors'), task: 'chat' } }));
    const duplicate = await unwrap(api.POST('/models', { body: { name: model.name, task: 'chat' } })).catch((error: unknown) => error);
    expect(duplicate).toBeInstanceOf(ProblemError);
    if (!isProblem(duplicate, 'conflict')) throw duplicate;
    expect({ status: duplicate.status, field: duplicate.problem.errors?.[0]?.field }).toEqual({ status: 409, field: 'name' });

    const version = await unwrap(api.POST('/versions', { body: { model_id: model.id, hash: sha256(model.name), version: '2.0.0' } }));
    await unwrap(api.PUT('/models/{id}/aliases/{alias}', { params: { path: { id: model.id, alias: 'staging' } }, body: { version_id: version.id } }));
    const aliased = await unwrap(api.DELETE('/versions/{id}', { params: { path: { id: version.id } } })).catch((error: unknown) => error);
    if (!isProblem(aliased, 'conflict')) throw aliased;
    expect(aliased.problem.aliases).toEqual(['staging']);

    const read = await withEtag(api.GET('/models/{id}', { params: { path: { id: model.id } } }));
    expect(read.etag).toMatch(/^"/);
    await unwrap(api.PUT('/models/{id}', { params: { path: { id: model.id } }, body: { description: 'changed by someone else' } }));
    const stale = await unwrap(
      api.PUT('/models/{id}', { params: { path: { id: model.id }, header: ifMatch(read.etag ?? '') }, body: { description: 'mine' } }),
    ).catch((error: unknown) => error);
    if (!isProblem(stale, 'precondition-failed')) throw stale;
    // The 412 says what the resource's ETag is now: overwrite deliberately with it.
    const mine = await unwrap(api.PUT('/models/{id}', { params: { path: { id: model.id }, header: ifMatch(stale.problem.current_etag) }, body: { description: 'mine' } }));
    expect(mine.description).toBe('mine');
  });

  it('revalidates with If-None-Match (304 is not an error) and pages through a keyset list', async () => {
    const model = await unwrap(api.POST('/models', { body: { name: unique('client-pages'), task: 'embedding' } }));
    const first = await withEtag(api.GET('/models/{id}', { params: { path: { id: model.id } } }));
    const etag = first.etag ?? '';
    expect(await revalidate(api.GET('/models/{id}', { params: { path: { id: model.id }, header: ifNoneMatch(etag) } }), etag)).toEqual({ modified: false, etag });
    await unwrap(api.PUT('/models/{id}', { params: { path: { id: model.id } }, body: { subject: 'science' } }));
    const changed = await revalidate(api.GET('/models/{id}', { params: { path: { id: model.id }, header: ifNoneMatch(etag) } }), etag);
    expect(changed.modified && changed.data.subject).toBe('science');

    for (const n of [1, 2, 3, 4, 5]) await unwrap(api.POST('/versions', { body: { model_id: model.id, hash: sha256(`${model.name}-${n}`), version: `1.${n}.0` } }));
    const versions: Version[] = [];
    for await (const version of paginate((page) => api.GET('/versions', { params: { query: { model_id: model.id, sort: 'version', limit: 2, ...page } } }))) {
      versions.push(version);
    }
    expect(versions.map((v) => v.version)).toEqual(['1.1.0', '1.2.0', '1.3.0', '1.4.0', '1.5.0']);
  });
});
