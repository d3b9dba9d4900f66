import fc from 'fast-check';
import { Clock } from '../src/common/clock';
import { classifyVersions } from '../src/retention/retention-policy';
import { RETENTION_LOCK_KEY } from '../src/retention/retention.service';
import { RUN_LOCK_CLASS } from '../src/retention/run-session';
import { expectProblem } from './support/problem';
import { create, makeBinding, makeModel } from './support/factories';
import { archivedIds, modelWithVersions } from './support/retention';
import { createTestApp, type TestApp } from './support/test-app';

class FakeClock extends Clock {
  current = new Date('2026-11-26T12:00:00.000Z');
  override now(): Date {
    return new Date(this.current);
  }
}

describe('retention (no archive storage: recorded in the database only)', () => {
  let sut: TestApp;
  const clock = new FakeClock();

  beforeAll(async () => {
    sut = await createTestApp('retention', { overrides: [{ provide: Clock, useValue: clock }] });
  });
  afterAll(() => sut.close());

  it('the brief example: keeps the newest 3, archives the rest with a derived archive_uri, and says so', async () => {
    const { model, versions } = await modelWithVersions(sut.http, sut.db, 5);
    const response = await sut.http.post('/retention/apply').send({ model_id: model.id, retention_count: 3 }).expect(200);
    expect(response.body).toMatchObject({
      run_id: expect.any(Number),
      trigger: 'manual',
      dry_run: false,
      status: 'succeeded',
      storage: 'none',
      retention_count: 3,
      totals: { models: 1, kept: 3, archived: 2, archived_bytes: 2001, failed: 0, purged: 0 },
      models_truncated: false,
    });
    const [entry] = response.body.models;
    expect(entry).toMatchObject({ model_id: model.id, model_name: model.name, retention_count: 3, failed: [], purged: [] });
    expect(entry.kept).toEqual([4, 3, 2].map((i) => ({ version_id: versions[i].id, version: versions[i].version, reason: 'within_retention' })));
    expect(entry.archived).toEqual(
      [1, 0].map((i) => ({
        version_id: versions[i].id,
        version: versions[i].version,
        artifact_uri: versions[i].artifact_uri,
        archive_uri: versions[i].artifact_uri.replace('s3://', 'archive://'),
        artifact: 'recorded',
      })),
    );
    expect(await archivedIds(sut.db, model.id)).toEqual([versions[0].id, versions[1].id]);

    // Archived versions stay readable and listed, unless archived=false is asked for.
    const archived = await sut.http.get(`/versions/${versions[0].id}`).expect(200);
    expect(archived.body).toMatchObject({ archived_at: clock.current.toISOString(), archive_uri: versions[0].artifact_uri.replace('s3://', 'archive://') });
    expect((await sut.http.get('/versions').query({ model_id: model.id })).body.items).toHaveLength(5);
    expect((await sut.http.get('/versions').query({ model_id: model.id, archived: false })).body.items).toHaveLength(3);
  });

  it('never archives a pinned version or one with an active binding; an inactive binding does not protect', async () => {
    const { model, versions } = await modelWithVersions(sut.http, sut.db, 6, (i) => (i === 0 ? { pinned: true } : {}));
    await create(sut.http, '/bindings', makeBinding(versions[1].id));
    await create(sut.http, '/bindings', makeBinding(versions[2].id, { status: 'inactive' }));
    await sut.http.put(`/versions/${versions[3].id}`).send({ pinned: true }).expect(200);

    const response = await sut.http.post('/retention/apply').send({ model_id: model.id, retention_count: 1 }).expect(200);
    const reasons = Object.fromEntries(response.body.models[0].kept.map((k: { version_id: number; reason: string }) => [k.version_id, k.reason]));
    expect(reasons).toEqual({
      [versions[5].id]: 'within_retention',
      [versions[3].id]: 'pinned',
      [versions[1].id]: 'active_binding',
      [versions[0].id]: 'pinned',
    });
    expect(await archivedIds(sut.db, model.id)).toEqual([versions[2].id, versions[4].id]);
    // An archived version cannot be given an active binding.
    expectProblem(await sut.http.post('/bindings').send(makeBinding(versions[4].id)), 409, 'conflict');
  });

  it("uses the model's retention_count, overridden by the request, else DEFAULT_RETENTION_COUNT", async () => {
    const a = await modelWithVersions(sut.http, sut.db, 6);
    await sut.http.put(`/models/${a.model.id}`).send({ retention_count: 5 }).expect(200);
    await sut.http.post('/retention/apply').send({ model_id: a.model.id }).expect(200);
    expect(await archivedIds(sut.db, a.model.id)).toEqual([a.versions[0].id]);
    await sut.http.post('/retention/apply').send({ model_id: a.model.id, retention_count: 4 }).expect(200);
    expect(await archivedIds(sut.db, a.model.id)).toEqual([a.versions[0].id, a.versions[1].id]);

    const b = await modelWithVersions(sut.http, sut.db, 5);
    const report = await sut.http.post('/retention/apply').send({ model_id: b.model.id }).expect(200);
    expect(report.body.models[0].retention_count).toBe(3);
    expect(await archivedIds(sut.db, b.model.id)).toEqual([b.versions[0].id, b.versions[1].id]);
  });

  it.each([
    [{ retention_count: 0 }, 'retention_count'],
    [{ retention_count: 11 }, 'retention_count'],
    [{ retention_count: '3' }, 'retention_count'],
    [{ retention_count: 2.5 }, 'retention_count'],
    [{ model_id: 'one' }, 'model_id'],
    [{ dry_run: 'yes' }, 'dry_run'],
    [{ purge: 1 }, 'purge'],
    [{ keep: 3 }, 'keep'],
  ])('rejects %j with 400', async (body, field) => {
    const problem = expectProblem(await sut.http.post('/retention/apply').send(body), 400, 'validation-error');
    expect(problem.errors!.map((e) => e.field)).toContain(field);
  });

  it('rejects a model retention_count outside 1-10', async () => {
    expectProblem(await sut.http.post('/models').send(makeModel({ retention_count: 11 })), 400, 'validation-error');
    const model = await create(sut.http, '/models', makeModel({ retention_count: 2 }));
    expect(model.retention_count).toBe(2);
    expectProblem(await sut.http.put(`/models/${model.id}`).send({ retention_count: 0 }), 400, 'validation-error');
  });

  it('answers 404 for a model that does not exist', async () => {
    expectProblem(await sut.http.post('/retention/apply').send({ model_id: 999999 }), 404, 'not-found');
  });

  it('a dry run reports exactly what the real run then does, changing nothing; a second run changes nothing', async () => {
    const { model } = await modelWithVersions(sut.http, sut.db, 7);
    const before = (await sut.db.query('SELECT id, archived_at, archive_uri, updated_at FROM model_versions WHERE model_id = $1 ORDER BY id', [model.id])).rows;
    const dry = await sut.http.post('/retention/apply').send({ model_id: model.id, dry_run: true }).expect(200);
    expect(dry.body.dry_run).toBe(true);
    const after = (await sut.db.query('SELECT id, archived_at, archive_uri, updated_at FROM model_versions WHERE model_id = $1 ORDER BY id', [model.id])).rows;
    expect(after).toEqual(before);

    const real = await sut.http.post('/retention/apply').send({ model_id: model.id }).expect(200);
    expect(real.body.models).toEqual(dry.body.models);
    expect(real.body.totals).toEqual(dry.body.totals);

    const again = await sut.http.post('/retention/apply').send({ model_id: model.id }).expect(200);
    expect(again.body.totals).toMatchObject({ archived: 0, failed: 0, purged: 0 });
  });

  it('without model_id covers every model', async () => {
    const a = await modelWithVersions(sut.http, sut.db, 4);
    const b = await modelWithVersions(sut.http, sut.db, 5);
    const response = await sut.http.post('/retention/apply').send({}).expect(200);
    const byModel = new Map(response.body.models.map((m: { model_id: number }) => [m.model_id, m]));
    expect(byModel.has(a.model.id) && byModel.has(b.model.id)).toBe(true);
    expect(await archivedIds(sut.db, a.model.id)).toEqual([a.versions[0].id]);
    expect(await archivedIds(sut.db, b.model.id)).toEqual([b.versions[0].id, b.versions[1].id]);
  });

  it('purges versions archived more than 90 days ago, exactly at the boundary, with their inactive bindings', async () => {
    const { model, versions } = await modelWithVersions(sut.http, sut.db, 3);
    const binding = await create(sut.http, '/bindings', makeBinding(versions[1].id, { status: 'deprecated' }));
    const now = clock.current.getTime();
    const minute = 60_000;
    const day = 24 * 60 * minute;
    await sut.db.query('UPDATE model_versions SET archived_at = $2, archive_uri = $3 WHERE id = $1', [versions[0].id, new Date(now - 89 * day - 23 * 60 * minute - 59 * minute), 'archive://x/0']);
    await sut.db.query('UPDATE model_versions SET archived_at = $2, archive_uri = $3 WHERE id = $1', [versions[1].id, new Date(now - 90 * day - 1000), 'archive://x/1']);

    const dry = await sut.http.post('/retention/apply').send({ model_id: model.id, purge: true, dry_run: true }).expect(200);
    expect(dry.body.models[0].purged.map((p: { version_id: number }) => p.version_id)).toEqual([versions[1].id]);
    const real = await sut.http.post('/retention/apply').send({ model_id: model.id, purge: true }).expect(200);
    expect(real.body.totals.purged).toBe(1);
    expect(real.body.models[0].purged).toEqual([
      { version_id: versions[1].id, version: versions[1].version, archive_uri: 'archive://x/1', archived_at: new Date(now - 90 * day - 1000).toISOString() },
    ]);
    const { rows } = await sut.db.query('SELECT id FROM model_versions WHERE model_id = $1 ORDER BY id', [model.id]);
    expect(rows.map((r: { id: string }) => Number(r.id))).toEqual([versions[0].id, versions[2].id]);
    expectProblem(await sut.http.get(`/bindings/${binding.id}`), 404, 'not-found');

    // A day later the other one is past the boundary too.
    clock.current = new Date(now + day);
    try {
      const later = await sut.http.post('/retention/apply').send({ model_id: model.id, purge: true }).expect(200);
      expect(later.body.totals.purged).toBe(1);
    } finally {
      clock.current = new Date(now);
    }
  });

  it('never purges a protected version: one pinned after it was archived stays', async () => {
    const { model, versions } = await modelWithVersions(sut.http, sut.db, 5);
    await sut.http.post('/retention/apply').send({ model_id: model.id }).expect(200);
    await sut.http.put(`/versions/${versions[0].id}`).send({ pinned: true }).expect(200);
    await sut.db.query(`UPDATE model_versions SET archived_at = $2::timestamptz - interval '200 days' WHERE id = ANY($1)`, [[versions[0].id, versions[1].id], clock.current]);
    const report = await sut.http.post('/retention/apply').send({ model_id: model.id, purge: true }).expect(200);
    expect(report.body.models[0].purged.map((p: { version_id: number }) => p.version_id)).toEqual([versions[1].id]);
    await sut.http.get(`/versions/${versions[0].id}`).expect(200);
  });

  it('restores an archived version; refuses a live one', async () => {
    const { model, versions } = await modelWithVersions(sut.http, sut.db, 4);
    await sut.http.post('/retention/apply').send({ model_id: model.id }).expect(200);
    const restored = await sut.http.post(`/versions/${versions[0].id}/restore`).expect(200);
    expect(restored.body).toMatchObject({ id: versions[0].id, archived_at: null, archive_uri: null, artifact_uri: versions[0].artifact_uri });
    expectProblem(await sut.http.post(`/versions/${versions[0].id}/restore`), 409, 'conflict');
    expectProblem(await sut.http.post('/versions/999999/restore'), 404, 'not-found');
  });

  it('a real run while another holds the retention lock is a 409 and is recorded as skipped', async () => {
    const { model } = await modelWithVersions(sut.http, sut.db, 4);
    await sut.db.query('SELECT pg_advisory_lock($1)', [RETENTION_LOCK_KEY.toString()]);
    try {
      expectProblem(await sut.http.post('/retention/apply').send({ model_id: model.id }), 409, 'conflict');
      // A dry run does not need the lock.
      await sut.http.post('/retention/apply').send({ model_id: model.id, dry_run: true }).expect(200);
    } finally {
      await sut.db.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK_KEY.toString()]);
    }
    const { rows } = await sut.db.query("SELECT status FROM retention_runs WHERE model_id = $1 AND NOT dry_run ORDER BY id DESC LIMIT 1", [model.id]);
    expect(rows[0].status).toBe('skipped');
    await sut.http.post('/retention/apply').send({ model_id: model.id }).expect(200);
  });

  it('records every run, and reports totals, eligible versions, recent runs and the schedule', async () => {
    const { model } = await modelWithVersions(sut.http, sut.db, 6);
    const stats = await sut.http.get('/retention/stats').expect(200);
    const eligible = stats.body.eligible_now.models.find((m: { model_id: number }) => m.model_id === model.id);
    expect(eligible).toEqual({ model_id: model.id, model_name: model.name, eligible: 3 });
    const counts = (await sut.db.query(
      `SELECT count(*) FILTER (WHERE archived_at IS NULL)::int AS live, count(*) FILTER (WHERE archived_at IS NOT NULL)::int AS archived,
              COALESCE(sum(size_bytes) FILTER (WHERE archived_at IS NOT NULL), 0)::bigint AS bytes FROM model_versions`,
    )).rows[0];
    expect(stats.body.versions).toMatchObject({ live: counts.live, archived: counts.archived });
    expect(stats.body.archive_bytes).toBe(Number(counts.bytes));
    expect(stats.body.versions.purged_total).toBeGreaterThanOrEqual(2);
    expect(stats.body.policy).toEqual({ default_retention_count: 3, purge_after_days: 90, storage: 'none' });
    expect(stats.body.schedule).toEqual({ enabled: false, cron: '0 3 * * *', timezone: 'UTC', next_run_at: null });
    expect(stats.body.last_runs.length).toBeGreaterThan(0);

    const applied = await sut.http.post('/retention/apply').send({ model_id: model.id }).expect(200);
    const run = await sut.http.get(`/retention/runs/${applied.body.run_id}`).expect(200);
    expect(run.body).toMatchObject({ id: applied.body.run_id, trigger: 'manual', status: 'succeeded', dry_run: false, model_id: model.id, counts: { archived: 3, kept: 3 } });
    const first = await sut.http.get('/retention/runs').query({ limit: 2 }).expect(200);
    expect(first.body.items[0].id).toBe(applied.body.run_id);
    const second = await sut.http.get('/retention/runs').query({ limit: 2, page_token: first.body.next_page_token }).expect(200);
    expect(second.body.items[0].id).toBeLessThan(first.body.items[1].id);
    expectProblem(await sut.http.get('/retention/runs/999999'), 404, 'not-found');
  });

  it('reports a run whose instance died (its session lock is gone) as abandoned at once, and records it at the next run', async () => {
    const { rows } = await sut.db.query(
      `INSERT INTO retention_runs (trigger, storage, started_at, heartbeat_at) VALUES ('manual', 'none', now() - interval '1 minute', now()) RETURNING id`,
    );
    const run = await sut.http.get(`/retention/runs/${rows[0].id}`).expect(200);
    expect(run.body).toMatchObject({ status: 'abandoned', error: expect.stringContaining('abandoned'), finished_at: expect.any(String) });
    // The next run records it.
    await sut.http.post('/retention/apply').send({ dry_run: true }).expect(200);
    const stored = await sut.db.query('SELECT status FROM retention_runs WHERE id = $1', [rows[0].id]);
    expect(stored.rows[0].status).toBe('abandoned');
  });

  it('a run whose session holds its lock reads running, however old its heartbeat', async () => {
    const { rows } = await sut.db.query(
      `INSERT INTO retention_runs (trigger, storage, started_at, heartbeat_at) VALUES ('manual', 'none', now() - interval '2 hours', now() - interval '1 hour') RETURNING id`,
    );
    await sut.db.query('SELECT pg_advisory_lock($1, $2::int)', [RUN_LOCK_CLASS, rows[0].id]);
    try {
      expect((await sut.http.get(`/retention/runs/${rows[0].id}`).expect(200)).body).toMatchObject({ status: 'running', error: null, finished_at: null });
      await sut.http.post('/retention/apply').send({ dry_run: true }).expect(200);
      expect((await sut.db.query('SELECT status FROM retention_runs WHERE id = $1', [rows[0].id])).rows[0].status).toBe('running');
    } finally {
      await sut.db.query('SELECT pg_advisory_unlock($1, $2::int)', [RUN_LOCK_CLASS, rows[0].id]);
    }
    expect((await sut.http.get(`/retention/runs/${rows[0].id}`).expect(200)).body.status).toBe('abandoned');
  });

  it('reads run records whose byte totals exceed 2^53 (approximately) instead of failing', async () => {
    const { rows } = await sut.db.query(
      `INSERT INTO retention_runs (trigger, storage, status, archived_bytes, finished_at) VALUES ('manual', 'none', 'succeeded', 9007199254740993 * 4, now()) RETURNING id`,
    );
    const run = await sut.http.get(`/retention/runs/${rows[0].id}`).expect(200);
    expect(run.body.counts.archived_bytes).toBeCloseTo(4 * 2 ** 53, -3);
  });

  it('refuses to restore while a retention run holds the lock (409)', async () => {
    const { model, versions } = await modelWithVersions(sut.http, sut.db, 4);
    await sut.http.post('/retention/apply').send({ model_id: model.id }).expect(200);
    await sut.db.query('SELECT pg_advisory_lock($1)', [RETENTION_LOCK_KEY.toString()]);
    try {
      expectProblem(await sut.http.post(`/versions/${versions[0].id}/restore`), 409, 'conflict');
    } finally {
      await sut.db.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK_KEY.toString()]);
    }
    await sut.http.post(`/versions/${versions[0].id}/restore`).expect(200);
  });

  it('matches the policy on random catalogs: dry run = real run, never a protected version, idempotent (property)', async () => {
    const spec = fc.record({
      keep: fc.integer({ min: 1, max: 4 }),
      versions: fc.array(fc.record({ pinned: fc.boolean(), binding: fc.constantFrom('none', 'active', 'inactive') }), { maxLength: 8 }),
    });
    await fc.assert(
      fc.asyncProperty(spec, async ({ keep, versions: specs }) => {
        const { model, versions } = await modelWithVersions(sut.http, sut.db, specs.length, (i) => ({ pinned: specs[i].pinned }));
        for (const [i, s] of specs.entries()) if (s.binding !== 'none') await create(sut.http, '/bindings', makeBinding(versions[i].id, { status: s.binding }));
        const expected = classifyVersions(
          versions.map((v, i) => ({ id: v.id as number, created_at: new Date(Date.UTC(2026, 0, 1, 0, i + 1)), pinned: specs[i].pinned, aliased: false, has_active_binding: specs[i].binding === 'active' })),
          keep,
        ).archive.map((v) => v.id);

        const dry = await sut.http.post('/retention/apply').send({ model_id: model.id, retention_count: keep, dry_run: true }).expect(200);
        const real = await sut.http.post('/retention/apply').send({ model_id: model.id, retention_count: keep }).expect(200);
        const archivedByDry = (dry.body.models[0]?.archived ?? []).map((a: { version_id: number }) => a.version_id);
        expect(archivedByDry).toEqual(expected);
        expect(real.body.models).toEqual(dry.body.models);
        expect(await archivedIds(sut.db, model.id)).toEqual([...expected].sort((a, b) => a - b));
        const again = await sut.http.post('/retention/apply').send({ model_id: model.id, retention_count: keep }).expect(200);
        expect(again.body.totals.archived).toBe(0);
      }),
      { numRuns: 15 },
    );
  });
});

