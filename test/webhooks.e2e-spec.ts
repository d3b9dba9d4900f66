import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { SecretBox } from '../src/webhooks/secret-box';
import { WebhookSecrets } from '../src/webhooks/webhook-secrets';
import { expectProblem } from './support/problem';
import { create, makeBinding, makeModel, makeVersion } from './support/factories';
import { parsePrometheus, sampleValue } from './support/prometheus';
import { freePort } from './support/service-process';
import { createTestApp, type TestApp } from './support/test-app';
import { createTestPki, type TestPki } from './support/tls';
import { verifySignature, WebhookReceiver, type ReceivedRequest } from './support/webhook-receiver';

const SECRET_KEY = 'webhook-test-encryption-key-0123456789abcdef';

describe('webhooks', () => {
  let sut: TestApp;
  let pki: TestPki;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    pki = createTestPki();
    receiver = await new WebhookReceiver().start();
    sut = await createTestApp('webhooks', {
      env: {
        WEBHOOK_DELIVERY_ENABLED: 'true',
        WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
        WEBHOOK_POLL_INTERVAL_MS: '50',
        // 10 ms, 20 ms, … up to 7.2 s between attempts; given up after 86 s; disabled after 259 s.
        WEBHOOK_RETRY_SCALE: '0.001',
        WEBHOOK_TIMEOUT_MS: '1000',
        WEBHOOK_LEASE_MS: '5000',
        WEBHOOK_SECRET_KEY: SECRET_KEY,
        WEBHOOK_CA_FILE: pki.caFile,
        AUTH_REQUIRED: 'false',
        RATE_LIMIT_PER_MINUTE: '0',
      },
    });
  });
  afterAll(async () => {
    await sut?.close();
    await receiver?.close();
    pki?.dispose();
  });

  const ok = (request: ReceivedRequest) => request.status >= 200 && request.status < 300;
  const idOf = (request: ReceivedRequest) => String(request.headers['webhook-id']);

  async function subscribe(body: Record<string, unknown>): Promise<{ id: number; secret: string; events: string[] }> {
    return create(sut.http, '/webhooks', { events: ['*'], ...body });
  }

  /** The model's events in feed order, as `evt_<id>` message ids with their types. */
  async function feedOf(modelId: number): Promise<{ message: string; type: string }[]> {
    const { rows } = await sut.db.query<{ id: number; type: string }>('SELECT id, type FROM events WHERE model_id = $1 ORDER BY tx_id, id', [modelId]);
    return rows.map((row) => ({ message: `evt_${row.id}`, type: row.type }));
  }

  async function deliveries(webhookId: number, query: Record<string, string | number> = {}) {
    return (await sut.http.get(`/webhooks/${webhookId}/deliveries`).query(query).expect(200)).body as { items: Record<string, any>[]; next_page_token: string | null };
  }

  describe('subscriptions', () => {
    it('creates one: 201 with Location and the secret, shown once and stored encrypted', async () => {
      const model = await create(sut.http, '/models', makeModel());
      const response = await sut.http
        .post('/webhooks')
        .send({ url: receiver.url('/created'), events: ['version.created', 'alias.set'], model_id: model.id, selector: 'team=payments', description: 'CI' })
        .expect(201);
      expect(response.headers.location).toBe(`/webhooks/${response.body.id}`);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.body).toEqual({
        id: expect.any(Number),
        url: receiver.url('/created'),
        events: ['version.created', 'alias.set'],
        selector: 'team=payments',
        model_id: model.id,
        description: 'CI',
        enabled: true,
        disabled_reason: null,
        disabled_at: null,
        failing_since: null,
        last_delivered_at: null,
        pending_deliveries: 0,
        previous_secret_expires_at: null,
        created_at: expect.any(String),
        updated_at: expect.any(String),
        secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      });
      const read = await sut.http.get(`/webhooks/${response.body.id}`).expect(200);
      expect(read.body).not.toHaveProperty('secret');
      expect(JSON.stringify(read.body)).not.toContain(response.body.secret.slice(6));
      const stored = (await sut.db.query('SELECT secret_ciphertext FROM webhooks WHERE id = $1', [response.body.id])).rows[0].secret_ciphertext as string;
      expect(stored).toMatch(/^v1\.[0-9a-f]{12}\./);
      expect(stored).not.toContain(response.body.secret.slice(6, 30));
      const list = await sut.http.get('/webhooks').query({ model_id: model.id }).expect(200);
      expect(list.body.items.map((w: { id: number }) => w.id)).toEqual([response.body.id]);
      expect(JSON.stringify(list.body)).not.toContain(response.body.secret.slice(6));
    });

    it('refuses bad subscriptions with 400 (or 404 for an unknown model) naming the field', async () => {
      const url = receiver.url('/refused');
      const field = async (body: Record<string, unknown>, status = 400) => {
        const problem = expectProblem(await sut.http.post('/webhooks').send(body), status, status === 400 ? 'validation-error' : 'not-found');
        return problem.errors?.map((e) => `${e.field}: ${e.message}`).join('; ');
      };
      expect(await field({ url, events: ['version.created', 'alias.moved'] })).toMatch(/^events: each must be one of model\.created, .*alias\.set/);
      expect(await field({ url, events: ['*', 'version.created'] })).toBe('events: "*" (every event) cannot be combined with other types');
      expect(await field({ url, events: [] })).toMatch(/^events: must name at least one/);
      expect(await field({ url, events: ['model.created', 'model.created'] })).toMatch(/^events: must not repeat/);
      expect(await field({ url })).toMatch(/^events: /);
      expect(await field({ url, events: ['*'], selector: 'team in (a' })).toBe('selector: is not a valid label selector: at character 11: expected "," or ")" in the value set, found the end of the selector');
      expect(await field({ url, events: ['*'], enabled: 'yes' })).toBe('enabled: must be true or false');
      expect(await field({ url, events: ['*'], secret: 'whsec_mine' })).toBe('secret: is not a known property');
      expect(await field({ url: 'ftp://example.com/x', events: ['*'] })).toBe('url: must be an http or https URL');
      expect(await field({ url: 'http://user:pw@127.0.0.1/x', events: ['*'] })).toMatch(/^url: must not contain credentials/);
      expect(await field({ url: 'not a url', events: ['*'] })).toBe('url: must be an absolute https URL');
      expect(await field({ url, events: ['*'], model_id: 987654321 }, 404)).toBe('model_id: no model with this id exists');
      expect((await sut.db.query(`SELECT count(*)::int AS n FROM webhooks WHERE url = $1`, [url])).rows[0].n).toBe(0);
    });

    it('updates the fields sent (If-Match honoured), pages the list, and deletes', async () => {
      const a = await subscribe({ url: receiver.url('/crud-a'), description: 'a' });
      const b = await subscribe({ url: receiver.url('/crud-b') });
      const read = await sut.http.get(`/webhooks/${a.id}`).expect(200);
      expectProblem(await sut.http.put(`/webhooks/${a.id}`).set('If-Match', '"stale"').send({ description: 'x' }), 412, 'precondition-failed');
      const updated = await sut.http.put(`/webhooks/${a.id}`).set('If-Match', read.headers.etag).send({ events: ['model.deleted'], description: null, selector: '!deprecated' }).expect(200);
      expect(updated.body).toMatchObject({ events: ['model.deleted'], description: null, selector: '!deprecated', url: receiver.url('/crud-a') });
      expectProblem(await sut.http.put(`/webhooks/${a.id}`).send({ url: null }), 400, 'validation-error');
      const paused = await sut.http.put(`/webhooks/${a.id}`).send({ enabled: false }).expect(200);
      expect(paused.body).toMatchObject({ enabled: false, disabled_reason: 'manual', disabled_at: expect.any(String) });
      const resumed = await sut.http.put(`/webhooks/${a.id}`).send({ enabled: true }).expect(200);
      expect(resumed.body).toMatchObject({ enabled: true, disabled_reason: null, disabled_at: null });

      const first = await sut.http.get('/webhooks').query({ limit: 1, sort: '-created_at' }).expect(200);
      expect(first.body.items.map((w: { id: number }) => w.id)).toEqual([b.id]);
      const second = await sut.http.get('/webhooks').query({ limit: 1, sort: '-created_at', page_token: first.body.next_page_token }).expect(200);
      expect(second.body.items.map((w: { id: number }) => w.id)).toEqual([a.id]);
      expectProblem(await sut.http.get('/webhooks').query({ enabled: 'maybe' }), 400, 'validation-error');

      await sut.http.delete(`/webhooks/${a.id}`).expect(204);
      await sut.http.delete(`/webhooks/${b.id}`).expect(204);
      expectProblem(await sut.http.get(`/webhooks/${a.id}`), 404, 'not-found');
      expectProblem(await sut.http.delete(`/webhooks/${a.id}`), 404, 'not-found');
      expectProblem(await sut.http.post(`/webhooks/${a.id}/test`), 404, 'not-found');
      expectProblem(await sut.http.get(`/webhooks/${a.id}/deliveries`), 404, 'not-found');
      expectProblem(await sut.http.get('/webhooks/abc'), 400, 'validation-error');
    });
  });

  describe('deliveries', () => {
    it('are Standard Webhooks requests, verifiable with the standardwebhooks package, whose body is the feed event', async () => {
      const model = await create(sut.http, '/models', makeModel());
      const hook = await subscribe({ url: receiver.url('/signed'), model_id: model.id });
      const version = await create(sut.http, '/versions', makeVersion(model.id));
      await sut.http.put(`/models/${model.id}/aliases/production`).send({ version_id: version.id }).expect(201);
      await receiver.waitFor(() => receiver.on('/signed').length >= 2);

      const feed = (await sut.http.get('/events').query({ limit: 1000 }).expect(200)).body.items.filter((e: { model_id: number }) => e.model_id === model.id);
      expect(feed.map((e: { type: string }) => e.type)).toEqual(['model.created', 'version.created', 'alias.set']);
      const requests = receiver.on('/signed');
      expect(requests).toHaveLength(2);
      for (const [index, request] of requests.entries()) {
        expect(request.method).toBe('POST');
        expect(request.headers['content-type']).toBe('application/json');
        expect(request.headers['webhook-id']).toBe(`evt_${feed[index + 1].id}`);
        expect(request.headers['webhook-timestamp']).toMatch(/^\d{10}$/);
        expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
        expect(verifySignature(hook.secret, request)).toEqual(feed[index + 1]);
        expect(() => verifySignature(`whsec_${Buffer.alloc(32, 1).toString('base64')}`, request)).toThrow(WebhookVerificationError);
        expect(() => verifySignature(hook.secret, { ...request, body: request.body.replace('"version', '"xversion') })).toThrow(WebhookVerificationError);
      }
      // The subscription started after model.created: it is not delivered.
      const log = await deliveries(hook.id);
      expect(log.items.map((d) => [d.event_type, d.status, d.attempts, d.last_response_code, d.origin])).toEqual([
        ['alias.set', 'delivered', 1, 204, 'feed'],
        ['version.created', 'delivered', 1, 204, 'feed'],
      ]);
      const webhook = (await sut.http.get(`/webhooks/${hook.id}`).expect(200)).body;
      expect(webhook).toMatchObject({ last_delivered_at: expect.any(String), failing_since: null, pending_deliveries: 0 });
    });

    it('go only to matching subscriptions: by type, by model, by label selector (also for a deleted model)', async () => {
      const payments = await create(sut.http, '/models', makeModel({ labels: { team: 'payments', env: 'prod' } }));
      const search = await create(sut.http, '/models', makeModel({ labels: { team: 'search' } }));
      const byType = await subscribe({ url: receiver.url('/by-type'), events: ['model.deleted'] });
      const byModel = await subscribe({ url: receiver.url('/by-model'), model_id: search.id });
      const bySelector = await subscribe({ url: receiver.url('/by-selector'), selector: 'team in (payments), env!=dev' });
      // The spelling of an alias move: accepted, kept as written, delivers alias.set events.
      const byAliasMoves = await subscribe({ url: receiver.url('/by-alias-moves'), events: ['alias.updated'] });
      expect(byAliasMoves.events).toEqual(['alias.updated']);

      const pv = await create(sut.http, '/versions', makeVersion(payments.id));
      await create(sut.http, '/bindings', makeBinding(pv.id, { status: 'inactive' }));
      const sv = await create(sut.http, '/versions', makeVersion(search.id));
      await sut.http.put(`/models/${search.id}/aliases/staging`).send({ version_id: sv.id }).expect(201);
      await sut.http.delete(`/models/${payments.id}`).expect(204);
      await sut.http.delete(`/models/${search.id}`).expect(204);

      // Everything but model.created, which happened before the subscriptions.
      const paymentsFeed = (await feedOf(payments.id)).slice(1);
      const searchFeed = (await feedOf(search.id)).slice(1);
      const expected = {
        '/by-type': [...paymentsFeed, ...searchFeed].filter((e) => e.type === 'model.deleted'),
        '/by-model': searchFeed,
        '/by-selector': paymentsFeed,
        '/by-alias-moves': [...paymentsFeed, ...searchFeed].filter((e) => e.type === 'alias.set'),
      };
      await receiver.waitFor(() => Object.entries(expected).every(([path, events]) => receiver.on(path).length >= events.length));
      await sleep(300);
      for (const [path, events] of Object.entries(expected)) {
        expect([path, receiver.on(path).map((r) => [idOf(r), JSON.parse(r.body).type])]).toEqual([path, events.map((e) => [e.message, e.type])]);
      }
      expect(paymentsFeed.map((e) => e.type)).toEqual(['version.created', 'binding.created', 'model.deleted', 'version.deleted']);
      expect(expected['/by-alias-moves']).toHaveLength(1);
      // The labels of deleted models are kept only until the dispatcher has passed their events.
      expect((await sut.db.query('SELECT count(*)::int AS n FROM webhook_model_tombstones WHERE model_id = ANY($1)', [[payments.id, search.id]])).rows[0].n).toBe(0);
      for (const hook of [byType, byModel, bySelector, byAliasMoves]) await sut.http.delete(`/webhooks/${hook.id}`).expect(204);
    });

    it('reach a receiver that fails for a while, once each and in feed order, nothing sent ahead of a failing one', async () => {
      const model = await create(sut.http, '/models', makeModel());
      const flaky = receiver.reply;
      let failures = 0;
      receiver.reply = (request) => (request.path === '/flaky' && ++failures <= 8 ? { status: 503, body: 'down for maintenance' } : flaky(request));
      try {
        const hook = await subscribe({ url: receiver.url('/flaky'), model_id: model.id });
        const versions = [];
        for (let i = 0; i < 6; i++) versions.push(await create(sut.http, '/versions', makeVersion(model.id)));
        await Promise.all(versions.map((version) => create(sut.http, '/bindings', makeBinding(version.id))));
        for (const version of versions) await sut.http.put(`/models/${model.id}/aliases/production`).send({ version_id: version.id }).expect(version === versions[0] ? 201 : 200);
        const feed = (await feedOf(model.id)).slice(1);
        expect(feed).toHaveLength(18);

        await receiver.waitFor(() => receiver.on('/flaky').filter(ok).length >= feed.length);
        await sleep(300);
        const requests = receiver.on('/flaky');
        const delivered = requests.filter(ok).map(idOf);
        expect(delivered).toEqual(feed.map((e) => e.message));
        expect(requests.filter((r) => !ok(r))).toHaveLength(8);
        // Strict order: every request is for the first event not yet acknowledged.
        const acknowledged = new Set<string>();
        for (const request of requests) {
          expect(idOf(request)).toBe(feed.find((e) => !acknowledged.has(e.message))?.message);
          if (ok(request)) acknowledged.add(idOf(request));
        }
        const log = await deliveries(hook.id, { sort: 'created_at', limit: 1 });
        expect(log.items[0]).toMatchObject({ status: 'delivered', last_response_code: 204, last_error: null, next_attempt_at: null });
        expect(log.items[0].attempts).toBe(requests.filter((r) => idOf(r) === feed[0].message).length);
      } finally {
        receiver.reply = flaky;
      }
    });

    it('count a timeout (WEBHOOK_TIMEOUT_MS) as a failure and try again with the same webhook-id', async () => {
      const model = await create(sut.http, '/models', makeModel());
      const hook = await subscribe({ url: receiver.url('/slow'), model_id: model.id });
      const normal = receiver.reply;
      let calls = 0;
      receiver.reply = (request) => (request.path === '/slow' && ++calls === 1 ? { status: 200, delayMs: 3_000 } : normal(request));
      try {
        await create(sut.http, '/versions', makeVersion(model.id));
        await receiver.waitFor(() => receiver.on('/slow').filter((r) => r.status === 204).length === 1);
        const [first, second] = receiver.on('/slow');
        expect(idOf(second)).toBe(idOf(first));
        expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(1_000);
        const log = await deliveries(hook.id);
        expect(log.items[0]).toMatchObject({ status: 'delivered', attempts: 2 });
      } finally {
        receiver.reply = normal;
      }
    });

    it('do not follow redirects, keep at most 1 KiB of a response body, and record why an attempt failed', async () => {
      const model = await create(sut.http, '/models', makeModel());
      const normal = receiver.reply;
      receiver.reply = (request) => {
        if (request.path === '/redirect') return { status: 302, headers: { location: receiver.url('/redirect-target') } };
        if (request.path === '/chatty') return { status: 200, body: 'é'.repeat(3000) };
        return normal(request);
      };
      try {
        const redirect = await subscribe({ url: receiver.url('/redirect'), model_id: model.id });
        const chatty = await subscribe({ url: receiver.url('/chatty'), model_id: model.id });
        await create(sut.http, '/versions', makeVersion(model.id));
        await receiver.waitFor(() => receiver.on('/redirect').length >= 3 && receiver.on('/chatty').length >= 1);
        await sut.http.put(`/webhooks/${redirect.id}`).send({ enabled: false }).expect(200);
        expect(receiver.on('/redirect-target')).toEqual([]);
        const [failing] = (await deliveries(redirect.id)).items;
        expect(failing).toMatchObject({ status: 'pending', last_response_code: 302, last_error: 'HTTP 302', next_attempt_at: expect.any(String) });
        const [kept] = (await deliveries(chatty.id)).items;
        expect(kept.status).toBe('delivered');
        expect(Buffer.byteLength(kept.last_response_body)).toBeLessThanOrEqual(1024);
        expect(kept.last_response_body).toBe('é'.repeat(512));
        await sut.http.delete(`/webhooks/${redirect.id}`).expect(204);
      } finally {
        receiver.reply = normal;
      }
    });

    it('are given up after the retry window, and the next ones go on; a webhook failing for the disable threshold is disabled, and that is recorded', async () => {
      const model = await create(sut.http, '/models', makeModel());
      const normal = receiver.reply;
      receiver.reply = (request) => (request.path === '/dead' ? { status: 500 } : normal(request));
      try {
        const hook = await subscribe({ url: receiver.url('/dead'), model_id: model.id });
        await create(sut.http, '/versions', makeVersion(model.id));
        await create(sut.http, '/versions', makeVersion(model.id));
        let queue: Record<string, any>[] = [];
        for (let i = 0; i < 200 && queue.length < 2; i++) {
          await sleep(50);
          queue = (await deliveries(hook.id, { sort: 'created_at' })).items;
        }
        const [head, next] = queue;
        expect(next).toBeDefined();
        // Move the first delivery's deadline to now: its next failure gives it up.
        await sut.db.query(`UPDATE webhook_deliveries SET give_up_at = now(), next_attempt_at = CASE status WHEN 'pending' THEN now() ELSE next_attempt_at END WHERE id = $1`, [head.id]);
        await receiver.waitFor(() => receiver.on('/dead').some((r) => idOf(r) === next.message_id), 30_000, 'the second delivery');
        expect((await sut.http.get(`/webhooks/${hook.id}/deliveries/${head.id}`).expect(200)).body).toMatchObject({ status: 'failed', next_attempt_at: null, last_response_code: 500 });

        // Pretend the failures began long ago: the next failure disables the webhook.
        await sut.db.query(`UPDATE webhooks SET failing_since = now() - interval '1 hour' WHERE id = $1`, [hook.id]);
        await sut.db.query(`UPDATE webhook_deliveries SET next_attempt_at = CASE status WHEN 'pending' THEN now() ELSE next_attempt_at END WHERE id = $1`, [next.id]);
        for (let i = 0; i < 100 && (await sut.http.get(`/webhooks/${hook.id}`)).body.enabled; i++) await sleep(50);
        const disabled = (await sut.http.get(`/webhooks/${hook.id}`).expect(200)).body;
        expect(disabled).toMatchObject({ enabled: false, disabled_reason: 'consecutive_failures', disabled_at: expect.any(String), failing_since: expect.any(String), pending_deliveries: 1 });
        const attempts = receiver.on('/dead').length;
        await sleep(500);
        expect(receiver.on('/dead')).toHaveLength(attempts);

        // Enabled again, it resumes its queue; a success ends the failure streak.
        receiver.reply = normal;
        await sut.http.put(`/webhooks/${hook.id}`).send({ enabled: true }).expect(200);
        await receiver.waitFor(() => receiver.on('/dead').some((r) => idOf(r) === next.message_id && ok(r)));
        await sleep(100);
        expect((await sut.http.get(`/webhooks/${hook.id}`).expect(200)).body).toMatchObject({ enabled: true, failing_since: null, pending_deliveries: 0 });
      } finally {
        receiver.reply = normal;
      }
    });

    it('go over https to a receiver trusted through WEBHOOK_CA_FILE, and fail with a TLS error on an untrusted certificate', async () => {
      const trusted = await new WebhookReceiver(pki.server).start();
      const untrusted = await new WebhookReceiver(pki.untrusted).start();
      try {
        const good = await subscribe({ url: trusted.url('/tls', 'localhost') });
        const bad = await subscribe({ url: untrusted.url('/tls') });
        const test = await sut.http.post(`/webhooks/${good.id}/test`).expect(200);
        expect(test.body).toMatchObject({ status: 'delivered', last_response_code: 204 });
        expect(verifySignature(good.secret, trusted.on('/tls')[0])).toMatchObject({ type: 'webhook.test' });
        const refused = await sut.http.post(`/webhooks/${bad.id}/test`).expect(200);
        expect(refused.body).toMatchObject({ status: 'failed', last_response_code: null, last_error: expect.stringMatching(/SELF_SIGNED|self.signed/i) });
        expect(untrusted.requests).toEqual([]);
        for (const hook of [good, bad]) await sut.http.delete(`/webhooks/${hook.id}`).expect(204);
      } finally {
        await trusted.close();
        await untrusted.close();
      }
    });
  });

  describe('operations', () => {
    it('rotate-secret: both secrets sign for 24 h (two v1 signatures), then only the new one', async () => {
      const model = await create(sut.http, '/models', makeModel());
      const hook = await subscribe({ url: receiver.url('/rotate'), model_id: model.id });
      const rotated = await sut.http.post(`/webhooks/${hook.id}/rotate-secret`).expect(200);
      expect(rotated.body.secret).toMatch(/^whsec_/);
      expect(rotated.body.secret).not.toBe(hook.secret);
      expect(Date.parse(rotated.body.previous_secret_expires_at) - Date.now()).toBeGreaterThan(23.9 * 3600_000);

      await create(sut.http, '/versions', makeVersion(model.id));
      await receiver.waitFor(() => receiver.on('/rotate').length === 1);
      const during = receiver.on('/rotate')[0];
      expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
      expect(verifySignature(rotated.body.secret, during)).toMatchObject({ type: 'version.created' });
      expect(verifySignature(hook.secret, during)).toMatchObject({ type: 'version.created' });

      await sut.db.query(`UPDATE webhooks SET previous_secret_expires_at = now() - interval '1 second' WHERE id = $1`, [hook.id]);
      await create(sut.http, '/versions', makeVersion(model.id));
      await receiver.waitFor(() => receiver.on('/rotate').length === 2);
      const after = receiver.on('/rotate')[1];
      expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
      expect(verifySignature(rotated.body.secret, after)).toMatchObject({ type: 'version.created' });
      expect(() => verifySignature(hook.secret, after)).toThrow(WebhookVerificationError);
      expect((await sut.http.get(`/webhooks/${hook.id}`).expect(200)).body.previous_secret_expires_at).toBeNull();
    });

    it('test: sends webhook.test at once, also to a disabled webhook, and records it in the log', async () => {
      const hook = await subscribe({ url: receiver.url('/ping'), enabled: false });
      const response = await sut.http.post(`/webhooks/${hook.id}/test`).expect(200);
      expect(response.body).toMatchObject({ webhook_id: hook.id, origin: 'test', event_type: 'webhook.test', status: 'delivered', attempts: 1, last_response_code: 204, event_id: null });
      const [request] = receiver.on('/ping');
      expect(idOf(request)).toBe(response.body.message_id);
      expect(new Webhook(hook.secret).verify(request.body, request.headers as Record<string, string>)).toEqual({
        id: null,
        cursor: null,
        type: 'webhook.test',
        occurred_at: expect.any(String),
        model_id: null,
        version_id: null,
        binding_id: null,
        alias: null,
        data: { webhook_id: hook.id },
      });
      expect((await deliveries(hook.id)).items.map((d) => d.id)).toEqual([response.body.id]);
    });

    it('delivery log: keyset pages and a status filter; retry of a finished delivery; replay from a cursor', async () => {
      const model = await create(sut.http, '/models', makeModel());
      const hook = await subscribe({ url: receiver.url('/log'), model_id: model.id, events: ['version.created'] });
      for (let i = 0; i < 3; i++) await create(sut.http, '/versions', makeVersion(model.id));
      await receiver.waitFor(() => receiver.on('/log').length === 3);
      const feed = (await feedOf(model.id)).filter((e) => e.type === 'version.created');

      const page1 = await deliveries(hook.id, { limit: 2 });
      const page2 = await deliveries(hook.id, { limit: 2, page_token: page1.next_page_token! });
      expect([...page1.items, ...page2.items].map((d) => d.message_id)).toEqual(feed.map((e) => e.message).reverse());
      expect(page2.next_page_token).toBeNull();
      expect((await deliveries(hook.id, { status: 'failed' })).items).toEqual([]);
      expectProblem(await sut.http.get(`/webhooks/${hook.id}/deliveries`).query({ status: 'lost' }), 400, 'validation-error');
      expect(page1.items[0]).toEqual({
        id: expect.any(Number),
        webhook_id: hook.id,
        status: 'delivered',
        origin: 'feed',
        message_id: feed[2].message,
        event_id: Number(feed[2].message.slice(4)),
        event_type: 'version.created',
        event_cursor: expect.any(String),
        occurred_at: expect.any(String),
        attempts: 1,
        last_attempt_at: expect.any(String),
        last_response_code: 204,
        last_duration_ms: expect.any(Number),
        last_response_body: null,
        last_error: null,
        next_attempt_at: null,
        give_up_at: expect.any(String),
        delivered_at: expect.any(String),
        created_at: expect.any(String),
      });

      const retried = await sut.http.post(`/webhooks/${hook.id}/deliveries/${page1.items[0].id}/retry`).expect(202);
      expect(retried.body).toMatchObject({ origin: 'retry', status: 'pending', message_id: feed[2].message, attempts: 0 });
      await receiver.waitFor(() => receiver.on('/log').length === 4);
      expect(idOf(receiver.on('/log')[3])).toBe(feed[2].message);
      expect(receiver.on('/log')[3].body).toBe(receiver.on('/log')[2].body);
      expectProblem(await sut.http.post(`/webhooks/${hook.id}/deliveries/99999999/retry`), 404, 'not-found');

      // Replay everything after the first version's event: the two later versions again.
      const first = (await deliveries(hook.id, { sort: 'created_at', limit: 1 })).items[0];
      const replay = await sut.http.post(`/webhooks/${hook.id}/replay`).send({ after: first.event_cursor }).expect(202);
      expect(replay.body).toEqual({ queued: 2, scanned: expect.any(Number), next_cursor: null });
      await receiver.waitFor(() => receiver.on('/log').length === 6);
      expect(receiver.on('/log').slice(4).map(idOf)).toEqual([feed[1].message, feed[2].message]);
      expect((await deliveries(hook.id, { limit: 2 })).items.map((d) => d.origin)).toEqual(['replay', 'replay']);

      expectProblem(await sut.http.post(`/webhooks/${hook.id}/replay`).send({ after: 'garbage!' }), 400, 'validation-error');
      expectProblem(await sut.http.post(`/webhooks/${hook.id}/replay`).send({}), 400, 'validation-error');
      expectProblem(await sut.http.post(`/webhooks/${hook.id}/replay`).send({ after: first.event_cursor, limit: 0 }), 400, 'validation-error');
    });

    it("the README's receiver example verifies deliveries and refuses a forged one", async () => {
      const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
      const code = /\*\*A receiver\*\*[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
      expect(code).toContain("require('standardwebhooks')");
      const port = await freePort();
      const hook = await subscribe({ url: `http://127.0.0.1:${port}/`, enabled: false });
      const example = spawn(process.execPath, ['-e', code!], {
        cwd: path.join(__dirname, '..'),
        env: { PATH: process.env.PATH, REGISTRY_WEBHOOK_SECRET: hook.secret, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      example.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      try {
        let test: Record<string, any> = {};
        for (let i = 0; i < 100 && test.status !== 'delivered'; i++) {
          await sleep(50);
          test = (await sut.http.post(`/webhooks/${hook.id}/test`).expect(200)).body;
        }
        expect(test).toMatchObject({ status: 'delivered', last_response_code: 204 });
        const forged = await fetch(`http://127.0.0.1:${port}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'webhook-id': 'evt_1', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,Zm9yZ2Vk' },
          body: '{"type":"model.deleted"}',
        });
        expect(forged.status).toBe(400);
        for (let i = 0; i < 40 && !output.includes('webhook.test'); i++) await sleep(50);
        expect(output).toContain('webhook.test');
        expect(output).not.toContain('model.deleted');
      } finally {
        example.kill();
      }
    });

    it('secrets: re-encrypted under WEBHOOK_SECRET_KEY at start-up; one that cannot be decrypted fails its deliveries clearly until rotated', async () => {
      const model = await create(sut.http, '/models', makeModel());
      const hook = await subscribe({ url: receiver.url('/keys'), model_id: model.id });
      // As if created before WEBHOOK_SECRET_KEY was set (the built-in key).
      await sut.db.query('UPDATE webhooks SET secret_ciphertext = $2 WHERE id = $1', [hook.id, new SecretBox([]).encrypt(hook.secret)]);
      await sut.app.get(WebhookSecrets).upgradeStoredSecrets();
      const upgraded = (await sut.db.query('SELECT secret_ciphertext FROM webhooks WHERE id = $1', [hook.id])).rows[0].secret_ciphertext;
      expect(new SecretBox([SECRET_KEY]).isStale(upgraded)).toBe(false);
      expect(new SecretBox([SECRET_KEY]).decrypt(upgraded)).toBe(hook.secret);

      // Encrypted with a key the service does not have.
      await sut.db.query('UPDATE webhooks SET secret_ciphertext = $2 WHERE id = $1', [hook.id, new SecretBox(['k'.repeat(40)]).encrypt(hook.secret)]);
      expect(expectProblem(await sut.http.post(`/webhooks/${hook.id}/test`), 409, 'conflict').detail).toMatch(/cannot be decrypted.*rotate the secret/);
      await create(sut.http, '/versions', makeVersion(model.id));
      let log: Record<string, any>[] = [];
      for (let i = 0; i < 200 && !(log[0]?.attempts >= 1 && log[0]?.status === 'pending'); i++) {
        await sleep(50);
        log = (await deliveries(hook.id)).items;
      }
      expect(log[0]).toMatchObject({ status: 'pending', last_response_code: null, last_error: expect.stringMatching(/^cannot sign: the webhook secret was encrypted with key [0-9a-f]{12}/) });
      expect(receiver.on('/keys')).toEqual([]);

      const rotated = await sut.http.post(`/webhooks/${hook.id}/rotate-secret`).expect(200);
      await receiver.waitFor(() => receiver.on('/keys').length === 1);
      expect(String(receiver.on('/keys')[0].headers['webhook-signature']).split(' ')).toHaveLength(1);
      expect(verifySignature(rotated.body.secret, receiver.on('/keys')[0])).toMatchObject({ type: 'version.created' });
    });

    it('exposes deliveries by outcome, the delivery lag and the queue in /metrics', async () => {
      // What the tests above did: deliveries, retries after errors and timeouts, one given up, one disabled.
      const samples = parsePrometheus((await sut.http.get('/metrics').expect(200)).text);
      expect(sampleValue(samples, 'webhook_deliveries_total', { outcome: 'delivered' })).toBeGreaterThan(10);
      expect(sampleValue(samples, 'webhook_deliveries_total', { outcome: 'retrying', reason: 'http_status' })).toBeGreaterThan(3);
      expect(sampleValue(samples, 'webhook_deliveries_total', { outcome: 'retrying', reason: 'timeout' })).toBeGreaterThanOrEqual(1);
      expect(sampleValue(samples, 'webhook_deliveries_total', { outcome: 'given_up', reason: 'http_status' })).toBeGreaterThanOrEqual(1);
      expect(sampleValue(samples, 'webhook_delivery_lag_seconds_count')).toBeGreaterThan(10);
      expect(sampleValue(samples, 'webhook_delivery_duration_seconds_count')).toBeGreaterThan(10);
      expect(sampleValue(samples, 'webhook_subscriptions_disabled_total')).toBeGreaterThanOrEqual(1);
      expect(sampleValue(samples, 'webhook_deliveries_total', { outcome: 'retrying', reason: 'secret' })).toBeGreaterThanOrEqual(1);
      expect(sampleValue(samples, 'webhook_deliveries_pending')).toEqual(expect.any(Number));
      expect(sampleValue(samples, 'webhook_deliveries_oldest_pending_age_seconds')).toEqual(expect.any(Number));
    });
  });
});
