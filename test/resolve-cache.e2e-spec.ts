import { setTimeout as sleep } from 'node:timers/promises';
import { etagOfJson } from '../src/common/http/etag';
import { RegistryChanges } from '../src/events/registry-changes';
import { create, makeBinding, makeModel, makeVersion, sha256 } from './support/factories';
import { parsePrometheus, sampleValue } from './support/prometheus';
import { TcpProxy } from './support/tcp-proxy';
import { createTestApp, type TestApp } from './support/test-app';
import { testServer } from './setup/test-database';

const TTL_MS = 1_500;

describe('resolve cache (RESOLVE_CACHE)', () => {
  let sut: TestApp;
  let model: Record<string, any>;
  let versions: Record<string, any>[];
  let binding: Record<string, any>;
  /** The direct connections (the LISTEN one among them) go through it: the test can cut them. */
  let direct: TcpProxy;

  beforeAll(async () => {
    direct = await TcpProxy.start(testServer());
    sut = await createTestApp('resolve-cache', { env: { RESOLVE_CACHE_TTL_MS: String(TTL_MS), POSTGRES_DIRECT_HOST: '127.0.0.1', POSTGRES_DIRECT_PORT: String(direct.port) } });
    model = await create(sut.http, '/models', makeModel());
    versions = [];
    for (let i = 0; i < 2; i++) versions.push(await create(sut.http, '/versions', makeVersion(model.id, { version: `1.${i}.0` })));
    binding = await create(sut.http, '/bindings', makeBinding(versions[0].id));
    await create(sut.http, '/bindings', makeBinding(versions[1].id));
    await listening(true);
  });
  afterAll(async () => {
    await sut.close();
    await direct.stop();
  });

  const resolve = async (query: Record<string, string> = {}) => (await sut.http.get(`/resolve/${model.name}`).query(query).expect(200)).body;
  const hits = async () => sampleValue(parsePrometheus((await sut.http.get('/metrics').expect(200)).text), 'resolve_cache_requests_total', { result: 'hit' }) ?? 0;
  async function listening(up: boolean): Promise<void> {
    const changes = sut.app.get(RegistryChanges);
    for (let waited = 0; changes.connected !== up; waited += 20) {
      if (waited > 10_000) throw new Error(`notifications not ${up ? 'up' : 'down'} after 10 s`);
      await sleep(20);
    }
  }
  /** A change no event records (made outside the API): only the TTL or a bypass shows it. */
  const changeHashBehindTheFeed = (versionId: number) => sut.db.query('UPDATE model_versions SET hash = $2 WHERE id = $1', [versionId, sha256(`${Math.random()}`)]);

  it('answers from memory; a change the feed does not record shows once RESOLVE_CACHE_TTL_MS has passed', async () => {
    // Right after writes through this replica the first read goes to the database; then it is kept.
    await resolve({ version: '1.0.0' });
    await sleep(20);
    const first = await resolve({ version: '1.0.0' });
    const hitsBefore = await hits();
    expect(await resolve({ version: '1.0.0' })).toEqual(first);
    expect(await hits()).toBe(hitsBefore + 1);
    await changeHashBehindTheFeed(versions[0].id);
    expect((await resolve({ version: '1.0.0' })).version.hash).toBe(first.version.hash);
    await sleep(TTL_MS + 100);
    expect((await resolve({ version: '1.0.0' })).version.hash).not.toBe(first.version.hash);
  });

  it('sends a kept answer as the same bytes under the same ETag, computed once, and 304 to If-None-Match', async () => {
    const path = `/resolve/${model.name}?alias=latest`;
    await sut.http.get(path).expect(200);
    await sleep(20);
    const first = await sut.http.get(path).expect(200);
    const hitsBefore = await hits();
    const kept = await sut.http.get(path).expect(200);
    expect(await hits()).toBe(hitsBefore + 1);
    expect(kept.text).toBe(first.text);
    expect(kept.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(kept.headers.etag).toBe(first.headers.etag);
    // The tag of exactly these bytes, as for any representation.
    expect(kept.headers.etag).toBe(etagOfJson(kept.text));
    expect(JSON.stringify(kept.body)).toBe(kept.text);
    const notModified = await sut.http.get(path).set('if-none-match', kept.headers.etag as string).expect(304);
    expect(notModified.text).toBe('');
    expect(notModified.headers.etag).toBe(kept.headers.etag);
  });

  it('drops an answer within milliseconds of a change committed by another session (as on another replica)', async () => {
    await resolve({ version: '1.1.0' });
    await resolve({ version: '1.1.0' });
    await sut.db.query('UPDATE model_versions SET eval_score = 0.42 WHERE id = $1', [versions[1].id]);
    const committed = Date.now();
    while ((await resolve({ version: '1.1.0' })).version.eval_score !== 0.42) {
      if (Date.now() - committed > 1_000) throw new Error('the change was not seen within 1 s');
    }
    expect(Date.now() - committed).toBeLessThan(1_000);
  });

  it('a client reading right after its own write through the same replica always sees it', async () => {
    for (let i = 0; i < 30; i++) {
      const target = versions[i % 2];
      await sut.http.put(`/models/${model.id}/aliases/production`).send({ version_id: target.id }).expect(i < 1 ? 201 : 200);
      expect((await resolve()).version.id).toBe(target.id);
      const cost = (i + 1) / 1000;
      await sut.http.put(`/versions/${target.id}`).send({ cost_per_1k: cost }).expect(200);
      expect((await resolve()).version.cost_per_1k).toBe(cost);
    }
    await sut.http.post(`/bindings/${binding.id}/usage`).send({ latency_ms: 123, success: true }).expect(200);
    await sut.http.put(`/models/${model.id}/aliases/production`).send({ version_id: versions[0].id }).expect(200);
    const before = (await resolve()).bindings[0].avg_latency_ms;
    await sut.http.post(`/bindings/${binding.id}/usage`).send({ latency_ms: 5_000, success: true }).expect(200);
    expect((await resolve()).bindings[0].avg_latency_ms).not.toBe(before);
  });

  it('while the notification connection is down the cache is emptied and bypassed; once it is back (LISTEN again) it serves again', async () => {
    await sut.http.put(`/models/${model.id}/aliases/production`).send({ version_id: versions[0].id }).expect(200);
    const cached = await resolve();
    await resolve();
    // The listening connection is cut, and reconnecting fails until the network is back.
    direct.refuse(true);
    direct.cut();
    await listening(false);
    await changeHashBehindTheFeed(versions[0].id);
    const fresh = await resolve();
    expect(fresh.version.hash).not.toBe(cached.version.hash);
    const hitsWhileDown = await hits();
    await resolve();
    expect(await hits()).toBe(hitsWhileDown);

    direct.refuse(false);
    await listening(true);
    const { rows } = await sut.db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE '%:changes'`);
    expect(rows[0].n).toBe(1);
    await resolve();
    const hitsUp = await hits();
    await changeHashBehindTheFeed(versions[0].id);
    expect((await resolve()).version.hash).toBe(fresh.version.hash);
    expect(await hits()).toBe(hitsUp + 1);
  });
});
