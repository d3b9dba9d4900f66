import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { Client } from 'pg';
import { EventsService } from '../src/events/events.service';
import { expectProblem } from './support/problem';
import { create, makeBinding, makeModel, makeVersion } from './support/factories';
import { parsePrometheus, sampleValue } from './support/prometheus';
import { SseClient } from './support/sse-client';
import { createTestApp, type TestApp } from './support/test-app';
import { createSuiteDatabase, dropDatabase, testServer } from './setup/test-database';

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
  let base: string;
  const logs: Record<string, unknown>[] = [];
  const streams: SseClient[] = [];

  beforeAll(async () => {
    sut = await createTestApp('events', {
      env: { EVENTS_HOLD_WARN_S: '1', EVENTS_STREAM_HEARTBEAT_S: '1', EVENTS_STREAM_MAX_SUBSCRIBERS: '25' },
      logs,
    });
    await sut.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(sut.app.getHttpServer().address() as { port: number }).port}`;
    cursor = (await sut.http.get('/events').query({ after: 'now' }).expect(200)).body.next_cursor;
  });
  afterEach(() => {
    for (const stream of streams.splice(0)) stream.close();
  });
  afterAll(() => sut.close());

  const connect = async (query: Record<string, string> = {}, headers: Record<string, string> = {}) => {
    const stream = await SseClient.open(`${base}/events/stream?${new URLSearchParams(query)}`, headers);
    streams.push(stream);
    return stream;
  };
  const metric = async (name: string) => sampleValue(parsePrometheus((await sut.http.get('/metrics').expect(200)).text), name);

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

  it('holds later events for a writing transaction in this database, shows it in the metrics and warns naming its pid and database', async () => {
    await drain();
    const holder = new Client({ ...testServer(), database: sut.database, application_name: 'long-batch' });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`INSERT INTO models (name, task, subject) VALUES ('held-by-batch', 'generation', 'general')`);
      const pid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      const later = await create(sut.http, '/models', makeModel());
      expect(await drain()).toEqual([]);

      const started = Date.now();
      let warning: Record<string, unknown> | undefined;
      while (!(warning = logs.find((line) => line.pid === pid && line.level === 40)) && Date.now() - started < 5_000) await sleep(50);
      expect(warning).toMatchObject({ pid, database: sut.database, application_name: 'long-batch', events_waiting: 1 });
      expect(warning!.msg).toMatch(new RegExp(`pid ${pid}, database ${sut.database}`));
      expect(JSON.stringify(warning)).not.toMatch(/INSERT|held-by-batch/);
      expect(await metric('events_feed_horizon_hold_seconds')).toBeGreaterThanOrEqual(1);
      expect(await metric('events_feed_lag_seconds')).toBeGreaterThan(0);
      expect(await metric('events_feed_unreleased')).toBe(1);
      expect(await sut.http.get('/health/ready').then((r) => r.status)).toBe(200);

      await holder.query('COMMIT');
      const events = await drain();
      expect(events.map((e) => e.type)).toEqual(['model.created', 'model.created']);
      expect(events[1].model_id).toBe(later.id);
      await sleep(600);
      expect(await metric('events_feed_unreleased')).toBe(0);
      expect(await metric('events_feed_horizon_hold_seconds')).toBeLessThan(1);
      expect(logs.some((line) => line.pid === pid && line.level === 30 && /has ended/.test(String(line.msg)))).toBe(true);
    } finally {
      await holder.end();
    }
  });

  it('never holds events for a writing transaction in another database, or a read-only one in this one', async () => {
    await drain();
    const other = await createSuiteDatabase('events-other', { empty: true });
    const foreign = new Client({ ...testServer(), database: other });
    const reader = new Client({ ...testServer(), database: sut.database });
    await Promise.all([foreign.connect(), reader.connect()]);
    try {
      await foreign.query('CREATE TABLE batch (n int)');
      await foreign.query('BEGIN');
      await foreign.query('INSERT INTO batch VALUES (1)');
      await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await reader.query('SELECT count(*) FROM models');
      const model = await create(sut.http, '/models', makeModel());
      expect((await drain()).map((e) => e.model_id)).toEqual([model.id]);
      // Proof that the old, cluster-wide horizon would have held it: the foreign xid is below xmin.
      const { rows } = await sut.db.query<{ held: boolean }>(
        'SELECT pg_snapshot_xmin(pg_current_snapshot()) <= (SELECT backend_xid::text::xid8 FROM pg_stat_activity WHERE pid = $1) AS held',
        [(await foreign.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid],
      );
      expect(rows[0].held).toBe(true);
    } finally {
      await Promise.all([foreign.end(), reader.end()]);
      await dropDatabase(other);
    }
  });

  it('every committed event is seen exactly once and in order by a concurrent reader and a stream, none from rolled-back work (property)', async () => {
    const pool = Array.from({ length: 8 }, () => new Client({ ...testServer(), database: sut.database }));
    await Promise.all(pool.map((client) => client.connect()));
    try {
      const write = fc.record({ pauseMs: fc.integer({ min: 0, max: 15 }), undone: fc.boolean() });
      const transaction = fc.record({ startMs: fc.integer({ min: 0, max: 60 }), writes: fc.array(write, { minLength: 1, maxLength: 3 }), commit: fc.boolean() });
      await fc.assert(
        fc.asyncProperty(fc.array(transaction, { minLength: 6, maxLength: 14 }), fc.integer({ min: 1, max: 7 }), async (transactions, pageSize) => {
          let after = (await sut.http.get('/events').query({ after: 'now' }).expect(200)).body.next_cursor as string;
          const stream = await connect({ after });
          const committed: number[] = [];
          const discarded: number[] = [];
          const free = [...pool];
          const runOne = async (tx: (typeof transactions)[number]) => {
            await sleep(tx.startMs);
            while (free.length === 0) await sleep(2);
            const client = free.pop()!;
            const ids: number[] = [];
            const undone: number[] = [];
            try {
              await client.query('BEGIN');
              for (const [i, w] of tx.writes.entries()) {
                if (w.undone) await client.query('SAVEPOINT s');
                const { rows } = await client.query<{ id: number }>(
                  `INSERT INTO models (name, task, subject) VALUES ($1, 'generation', 'general') RETURNING id`,
                  [`prop-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}-${i}`],
                );
                if (w.undone) await client.query('ROLLBACK TO SAVEPOINT s');
                (w.undone ? undone : ids).push(rows[0].id);
                await sleep(w.pauseMs);
              }
              await client.query(tx.commit ? 'COMMIT' : 'ROLLBACK');
              (tx.commit ? committed : discarded).push(...ids);
              discarded.push(...undone);
            } finally {
              free.push(client);
            }
          };
          const seen: Event[] = [];
          let writing = true;
          const reading = (async () => {
            for (;;) {
              const done = !writing;
              const { body } = await sut.http.get('/events').query({ after, limit: pageSize }).expect(200);
              seen.push(...body.items);
              after = body.next_cursor;
              if (done && body.items.length === 0) return;
              await sleep(3);
            }
          })();
          await Promise.all(transactions.map(runOne));
          writing = false;
          await reading;

          const seenIds = seen.map((e) => e.model_id);
          expect([...seenIds].sort((a, b) => a! - b!)).toEqual([...committed].sort((a, b) => a - b));
          expect(seenIds.filter((id) => discarded.includes(id!))).toEqual([]);
          await stream.waitFor((s) => s.messages.length >= seen.length);
          await sleep(50);
          expect(stream.json<Event>().map((e) => e.cursor)).toEqual(seen.map((e) => e.cursor));
          expect(stream.ids).toEqual(seen.map((e) => e.cursor));
          stream.close();
        }),
        { numRuns: 5 },
      );
    } finally {
      await Promise.all(pool.map((client) => client.end()));
    }
    cursor = (await sut.http.get('/events').query({ after: 'now' }).expect(200)).body.next_cursor;
  });

  describe('GET /events/stream', () => {
    it('pushes each change as it commits (id: the cursor, data: the event), sends heartbeats, and resumes after Last-Event-ID with no gap and no repeat', async () => {
      const head = (await sut.http.get('/events').query({ after: 'now' }).expect(200)).body.next_cursor as string;
      const first = await connect();
      expect(first.status).toBe(200);
      expect(first.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(first.headers['cache-control']).toBe('no-store');
      expect(first.headers['x-request-id']).toEqual(expect.any(String));
      const model = await create(sut.http, '/models', makeModel());
      const version = await create(sut.http, '/versions', makeVersion(model.id));
      await sut.http.put(`/models/${model.id}/aliases/production`).send({ version_id: version.id }).expect(201);
      await first.waitFor((s) => s.messages.length === 3);
      const page = (await sut.http.get('/events').query({ after: head }).expect(200)).body.items as Event[];
      expect(first.json()).toEqual(page);
      expect(first.ids).toEqual(page.map((e) => e.cursor));
      await first.waitFor((s) => s.comments.includes('heartbeat'), 3_000);
      first.close();

      await sut.http.put(`/models/${model.id}`).send({ description: 'while away' }).expect(200);
      await create(sut.http, '/bindings', makeBinding(version.id));
      const resumed = await connect({ after: head }, { 'Last-Event-ID': first.lastEventId! });
      await resumed.waitFor((s) => s.messages.length === 2);
      await create(sut.http, '/versions', makeVersion(model.id));
      await resumed.waitFor((s) => s.messages.length === 3);
      await sleep(300);
      expect(resumed.json<Event>().map((e) => e.type)).toEqual(['model.updated', 'binding.created', 'version.created']);
      const all = (await sut.http.get('/events').query({ after: head }).expect(200)).body.items as Event[];
      expect([...first.ids, ...resumed.ids]).toEqual(all.map((e) => e.cursor));

      // Without Last-Event-ID, `after` says where to start.
      const fromCursor = await connect({ after: head });
      await fromCursor.waitFor((s) => s.messages.length === all.length);
      expect(fromCursor.ids).toEqual(all.map((e) => e.cursor));
    });

    it('filters by model and by type', async () => {
      const [a, b] = [await create(sut.http, '/models', makeModel()), await create(sut.http, '/models', makeModel())];
      const onlyA = await connect({ model: String(a.id) });
      const versionsAndAliases = await connect({ type: 'version.*,alias.set' });
      const aliasMoves = await connect({ type: 'alias.updated' });
      const version = await create(sut.http, '/versions', makeVersion(b.id));
      await sut.http.put(`/models/${b.id}/aliases/production`).send({ version_id: version.id }).expect(201);
      await sut.http.put(`/models/${a.id}`).send({ description: 'a changed' }).expect(200);
      await sut.http.put(`/models/${b.id}`).send({ description: 'b changed' }).expect(200);
      await onlyA.waitFor((s) => s.messages.length === 1);
      await versionsAndAliases.waitFor((s) => s.messages.length === 2);
      await aliasMoves.waitFor((s) => s.messages.length === 1);
      await sleep(300);
      expect(onlyA.json<Event>().map((e) => [e.type, e.model_id])).toEqual([['model.updated', a.id]]);
      expect(versionsAndAliases.json<Event>().map((e) => e.type)).toEqual(['version.created', 'alias.set']);
      expect(aliasMoves.json<Event>().map((e) => [e.type, e.model_id])).toEqual([['alias.set', b.id]]);
    });

    it('rejects bad filters and cursors with 400, naming the field', async () => {
      for (const [query, headers, field] of [
        [{ model: 'abc' }, {}, 'model'],
        [{ type: 'version.nope' }, {}, 'type'],
        [{ after: 'garbage!' }, {}, 'after'],
        [{}, { 'Last-Event-ID': 'not a cursor' }, 'Last-Event-ID'],
      ] as [Record<string, string>, Record<string, string>, string][]) {
        const stream = await connect(query, headers);
        expect(stream.status).toBe(400);
        await stream.waitFor((s) => s.ended);
        expect(stream.headers['content-type']).toMatch(/application\/problem\+json/);
        expect(JSON.parse(stream.body).errors.map((e: { field: string }) => e.field)).toEqual([field]);
      }
    });

    it('reads each event once from the database and fans it out to every subscriber; refuses more than EVENTS_STREAM_MAX_SUBSCRIBERS', async () => {
      const subscribers = await Promise.all(Array.from({ length: 20 }, () => connect()));
      await sleep(200);
      const [reads, read, delivered] = [await metric('events_stream_reads_total'), await metric('events_stream_events_total'), await metric('events_stream_delivered_total')];
      const model = await create(sut.http, '/models', makeModel());
      for (let i = 0; i < 4; i++) await sut.http.put(`/models/${model.id}`).send({ description: `change ${i}` }).expect(200);
      await Promise.all(subscribers.map((s) => s.waitFor((c) => c.messages.length === 5)));
      expect((await metric('events_stream_events_total'))! - read!).toBe(5);
      expect((await metric('events_stream_delivered_total'))! - delivered!).toBe(100);
      // One poller: a handful of reads for five commits, not one per subscriber.
      expect((await metric('events_stream_reads_total'))! - reads!).toBeLessThan(20);
      expect(await metric('events_stream_subscribers')).toBe(20);

      await Promise.all(Array.from({ length: 5 }, () => connect()));
      const refused = await connect();
      expect(refused.status).toBe(503);
      await refused.waitFor((s) => s.ended);
      expect(JSON.parse(refused.body)).toMatchObject({ status: 503, type: '/problems/service-unavailable' });
      expect(refused.headers['retry-after']).toBeDefined();
    });
  });

  it('validates cursors and answers 410 for one older than pruning', async () => {
    expectProblem(await sut.http.get('/events').query({ after: 'garbage!' }), 400, 'validation-error');
    expectProblem(await sut.http.get('/events').query({ limit: 0 }), 400, 'validation-error');
    const first = (await sut.http.get('/events').query({ limit: 1 }).expect(200)).body.items[0] as Event;
    await sut.db.query(`UPDATE events SET occurred_at = now() - interval '31 days' WHERE id = $1`, [first.id]);
    expect(await sut.app.get(EventsService).prune()).toBe(1);
    expectProblem(await sut.http.get('/events').query({ after: Buffer.from('0:0').toString('base64url') }), 410, 'cursor-expired');
    const expired = await connect({}, { 'Last-Event-ID': Buffer.from('0:0').toString('base64url') });
    expect(expired.status).toBe(410);
    await sut.http.get('/events').query({ after: first.cursor }).expect(200);
    await sut.http.get('/events').expect(200);
  });
});

describe('the head of the change feed ("now")', () => {
  let sut: TestApp;
  beforeAll(async () => {
    sut = await createTestApp('events-head');
    await sut.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => sut.close());

  it('is the newest event by transaction number, not by its decimal spelling (999… sorts after 1000… as text)', async () => {
    // Two old events whose transaction numbers have different digit counts: 99…9 (n-1 digits) and
    // 10…0 (n digits), both below the current transaction, so both are released.
    const { rows } = await sut.db.query<{ digits: number }>('SELECT length(pg_current_xact_id()::text) AS digits');
    const digits = rows[0].digits;
    expect(digits).toBeGreaterThan(2);
    const shorter = '9'.repeat(digits - 1);
    const longer = `1${'0'.repeat(digits - 1)}`;
    await sut.db.query(`INSERT INTO events (tx_id, type, alias) VALUES ($1::xid8, 'alias.deleted', 'a'), ($2::xid8, 'alias.deleted', 'b')`, [shorter, longer]);

    const head = (await sut.http.get('/events').query({ after: 'now' }).expect(200)).body;
    expect(head.items).toEqual([]);
    const model = await create(sut.http, '/models', makeModel());
    const after = (await sut.http.get('/events').query({ after: head.next_cursor }).expect(200)).body;
    expect(after.items.map((event: { type: string; model_id: number }) => [event.type, event.model_id])).toEqual([['model.created', model.id]]);

    const base = `http://127.0.0.1:${(sut.app.getHttpServer().address() as { port: number }).port}`;
    const stream = await SseClient.open(`${base}/events/stream`);
    try {
      expect(stream.status).toBe(200);
      await stream.waitFor((client) => client.comments.some((comment) => comment.includes('change feed after')));
      const second = await create(sut.http, '/models', makeModel());
      await stream.waitFor((client) => client.messages.length >= 1);
      expect(stream.json<{ type: string; model_id: number }>().map((event) => [event.type, event.model_id])[0]).toEqual(['model.created', second.id]);
    } finally {
      stream.close();
    }
  });
});
