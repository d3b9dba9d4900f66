/**
 * The attacks of issue 10, each as an attacker (or a careless client) would try it, against real
 * files and a local S3 server: every victim must stay byte-for-byte intact, and nothing may be
 * written outside ARCHIVE_DIR or an artifact root.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { artifactKey } from '../src/config/artifact-uri';
import { create, makeModel, makeVersion } from './support/factories';
import { fileTree, pathOf, regularFiles, tempFiles, writeArtifact } from './support/artifacts';
import { expectProblem } from './support/problem';
import { archivedIds, modelWithArtifacts } from './support/retention';
import { startS3 } from './support/s3';
import { createTestApp, type TestApp } from './support/test-app';
import { testServer } from './setup/test-database';

let sequence = 0;
const unique = () => `${process.pid}-${++sequence}`;

type Archived = { version_id: number; artifact: string; reason?: string; archive_uri: string | null };
const archivedOf = (report: { models: { archived: Archived[] }[] }, versionId: number) =>
  report.models.flatMap((m) => m.archived).find((a) => a.version_id === versionId);

describe('artifact safety: the file archive under attack', () => {
  let sut: TestApp;
  let base: string;
  let models: string;
  let victims: string;
  let archive: string;
  let victimsBefore: Record<string, string>;
  const hostname = existsSync('/etc/hostname') ? readFileSync('/etc/hostname') : undefined;

  beforeAll(async () => {
    base = mkdtempSync(path.join(tmpdir(), 'mr-artifact-safety-'));
    models = path.join(base, 'models');
    victims = path.join(base, 'victims');
    archive = path.join(base, 'archive');
    mkdirSync(models, { recursive: true });
    writeArtifact(path.join(victims, 'v.bin'), 'the victim');
    writeArtifact(path.join(victims, 'deep', 'w.bin'), 'another victim');
    victimsBefore = fileTree(victims);
    sut = await createTestApp('artifact-safety', { env: { ARCHIVE_STORAGE: 'file', ARCHIVE_DIR: archive, ARTIFACT_ROOTS: `${pathToFileURL(models).href}/` } });
  });
  afterAll(async () => {
    await sut.close();
    // Whatever happened above, nothing outside the root and the archive was touched.
    expect(fileTree(victims)).toEqual(victimsBefore);
    if (hostname) expect(readFileSync('/etc/hostname')).toEqual(hostname);
    rmSync(base, { recursive: true, force: true });
  });
  afterEach(async () => {
    expect(tempFiles(models, archive)).toEqual([]);
    // Every byte in the archive belongs to an archived version.
    const { rows } = await sut.db.query('SELECT archive_uri FROM model_versions WHERE archive_uri IS NOT NULL');
    const referenced = new Set(rows.map((row: { archive_uri: string }) => pathOf(row.archive_uri)));
    expect(regularFiles(archive).filter((file) => !referenced.has(file))).toEqual([]);
  });

  const inRoot = (relative: string, content = `bytes of ${relative}`) => writeArtifact(path.join(models, relative), content);
  const modelsUri = () => pathToFileURL(models).href;
  const apply = async (body: Record<string, unknown>) => (await sut.http.post('/retention/apply').send({ retention_count: 1, ...body }).expect(200)).body;
  const archiveFiles = () => regularFiles(archive).sort();

  it('1. a version pointing outside the roots is recorded, reported outside_artifact_roots, and never touched — dry or real, archived or restored', async () => {
    const victim = pathToFileURL(path.join(victims, 'v.bin')).href;
    const { model, versions } = await modelWithArtifacts(sut.http, sut.db, [victim, 'file:///etc/hostname', inRoot('one/live.bin')]);
    const dry = await apply({ model_id: model.id, dry_run: true });
    const real = await apply({ model_id: model.id });
    for (const report of [dry, real]) {
      for (const version of versions.slice(0, 2)) {
        expect(archivedOf(report, version.id)).toMatchObject({ artifact: 'recorded', reason: 'outside_artifact_roots', archive_uri: null });
      }
    }
    expect(await archivedIds(sut.db, model.id)).toEqual([versions[0].id, versions[1].id]);
    expect(archiveFiles().filter((file) => file.includes('/one/'))).toEqual([]);
    await sut.http.post(`/versions/${versions[0].id}/restore`).expect(200);
    expect(fileTree(victims)).toEqual(victimsBefore);
  });

  it.each([
    ['a ".." segment', '/../victims/v.bin'],
    ['a percent-encoded ".." segment', '/%2e%2e/victims/v.bin'],
    ['a half-encoded ".." segment', '/.%2E/victims/v.bin'],
    ['an encoded slash', '/..%2Fvictims%2Fv.bin'],
    ['a NUL byte', '/x.bin%00/../../victims/v.bin'],
  ])('1. a URI with %s is unsafe_path and untouched', async (_label, suffix) => {
    const uri = `${modelsUri()}${suffix}`;
    const { model, versions } = await modelWithArtifacts(sut.http, sut.db, [uri, inRoot(`unsafe/${unique()}.bin`)]);
    for (const dryRun of [true, false]) {
      expect(archivedOf(await apply({ model_id: model.id, dry_run: dryRun }), versions[0].id)).toMatchObject({ artifact: 'recorded', reason: 'unsafe_path', archive_uri: null });
    }
    expect(fileTree(victims)).toEqual(victimsBefore);
    expect(archiveFiles().filter((file) => file.includes('/victims/'))).toEqual([]);
  });

  it('1. a symlink between the root and the file (the file itself, or a folder on the way) is unsafe_path and untouched', async () => {
    symlinkSync(path.join(victims, 'v.bin'), path.join(models, 'link.bin'));
    symlinkSync(victims, path.join(models, 'dir-link'));
    mkdirSync(path.join(models, 'real', 'sub'), { recursive: true });
    symlinkSync(path.join(victims, 'deep'), path.join(models, 'real', 'sub', 'deep'));
    const modelsBefore = fileTree(models);
    const links = [`${modelsUri()}/link.bin`, `${modelsUri()}/dir-link/v.bin`, `${modelsUri()}/real/sub/deep/w.bin`];
    const { model, versions } = await modelWithArtifacts(sut.http, sut.db, [...links, inRoot('links/live.bin')]);
    for (const dryRun of [true, false]) {
      const report = await apply({ model_id: model.id, dry_run: dryRun });
      for (const version of versions.slice(0, 3)) expect(archivedOf(report, version.id)).toMatchObject({ artifact: 'recorded', reason: 'unsafe_path', archive_uri: null });
    }
    expect(fileTree(victims)).toEqual(victimsBefore);
    for (const [relative, kind] of Object.entries(modelsBefore)) expect(fileTree(models)[relative]).toBe(kind);
    expect(archiveFiles().filter((file) => /link|\/deep\//.test(file))).toEqual([]);
    // Restoring them writes nothing either.
    for (const version of versions.slice(0, 3)) await sut.http.post(`/versions/${version.id}/restore`).expect(200);
    expect(fileTree(victims)).toEqual(victimsBefore);
  });

  it('2. an archived version keeps its artifact_uri (409), and restore never overwrites what is there (409 artifact-exists)', async () => {
    const original = inRoot('over/a.bin', 'archived bytes');
    const other = inRoot('over/other.bin', 'another file in the root');
    const { model, versions } = await modelWithArtifacts(sut.http, sut.db, [original, inRoot('over/live.bin')]);
    await apply({ model_id: model.id });
    expect(existsSync(pathOf(original))).toBe(false);

    const moved = expectProblem(await sut.http.put(`/versions/${versions[0].id}`).send({ artifact_uri: other }), 409, 'conflict');
    expect(moved.errors).toEqual([{ field: 'artifact_uri', message: expect.stringContaining('archived') }]);
    await sut.http.put(`/versions/${versions[0].id}`).send({ artifact_uri: original, region: 'eu-west-1' }).expect(200);

    // Something appears where the archived artifact was: a new file, a symlink to a victim, a symlinked folder.
    const attempts: [string, () => void, () => void][] = [
      ['a file', () => writeFileSync(pathOf(original), 'new bytes'), () => unlinkSync(pathOf(original))],
      ['a symlink', () => symlinkSync(path.join(victims, 'v.bin'), pathOf(original)), () => unlinkSync(pathOf(original))],
      [
        'a symlinked folder',
        () => {
          renameSync(path.join(models, 'over'), path.join(models, 'over-moved'));
          symlinkSync(victims, path.join(models, 'over'));
        },
        () => {
          unlinkSync(path.join(models, 'over'));
          renameSync(path.join(models, 'over-moved'), path.join(models, 'over'));
        },
      ],
    ];
    for (const [label, plant, remove] of attempts) {
      plant();
      const before = fileTree(models);
      const response = await sut.http.post(`/versions/${versions[0].id}/restore`);
      expect({ label, status: response.status }).toEqual({ label, status: 409 });
      expect(['artifact-exists', 'conflict']).toContain(response.body.code);
      expect(fileTree(models)).toEqual(before);
      expect(fileTree(victims)).toEqual(victimsBefore);
      remove();
    }
    expect(await archivedIds(sut.db, model.id)).toEqual([versions[0].id]);
    expectProblem(await (async () => {
      writeFileSync(pathOf(original), 'new bytes');
      return sut.http.post(`/versions/${versions[0].id}/restore`);
    })(), 409, 'artifact-exists');
    expect(readFileSync(pathOf(original), 'utf8')).toBe('new bytes');
    unlinkSync(pathOf(original));

    await sut.http.post(`/versions/${versions[0].id}/restore`).expect(200);
    expect(readFileSync(pathOf(original), 'utf8')).toBe('archived bytes');
    expect(readFileSync(pathOf(other), 'utf8')).toBe('another file in the root');
    expect(archiveFiles().filter((file) => file.includes('/over/'))).toEqual([]);
  });

  it('3. an artifact shared with a live version of another model is copied, never moved; the last one moves it; each restores', async () => {
    const shared = inRoot('shared/s.bin', 'shared bytes');
    const a = await modelWithArtifacts(sut.http, sut.db, [shared, inRoot('shared/a-new.bin')]);
    const b = await modelWithArtifacts(sut.http, sut.db, [shared], { start: '2026-03-01T00:00:00Z' });

    const first = await apply({});
    expect(archivedOf(first, a.versions[0].id)).toMatchObject({ artifact: 'copied', reason: 'shared_artifact' });
    expect(readFileSync(pathOf(shared), 'utf8')).toBe('shared bytes');

    // Model B moves on: its version is archived too, and now the original goes.
    const bNew = await create(sut.http, '/versions', makeVersion(b.model.id, { version: '3.0.0', artifact_uri: inRoot('shared/b-new.bin') }));
    expect(bNew.id).toBeGreaterThan(0);
    const second = await apply({ model_id: b.model.id });
    expect(archivedOf(second, b.versions[0].id)).toMatchObject({ artifact: 'moved' });
    expect(existsSync(pathOf(shared))).toBe(false);
    const copies = await sut.db.query('SELECT archive_uri FROM model_versions WHERE id = ANY($1) ORDER BY id', [[a.versions[0].id, b.versions[0].id]]);
    for (const { archive_uri } of copies.rows) expect(readFileSync(pathOf(archive_uri), 'utf8')).toBe('shared bytes');

    // Restoring one leaves the other restorable (its archive copy is its own).
    await sut.http.post(`/versions/${a.versions[0].id}/restore`).expect(200);
    expect(readFileSync(pathOf(shared), 'utf8')).toBe('shared bytes');
    expect(readFileSync(pathOf(copies.rows[1].archive_uri), 'utf8')).toBe('shared bytes');
    // B's bytes are already in place (the very file it archived): restored in place.
    await sut.http.post(`/versions/${b.versions[0].id}/restore`).expect(200);
    expect(readFileSync(pathOf(shared), 'utf8')).toBe('shared bytes');
    expect(archiveFiles().filter((file) => file.includes('/shared/'))).toEqual([]);
  });

  it('3. purge deletes an archive copy only with its last reference (copies shared by an earlier layout are reference-counted)', async () => {
    const artifact = inRoot('legacy/l.bin', 'legacy bytes');
    const one = await modelWithArtifacts(sut.http, sut.db, [artifact, inRoot('legacy/one-new.bin')]);
    const two = await modelWithArtifacts(sut.http, sut.db, [artifact, inRoot('legacy/two-new.bin')]);
    await apply({});
    // Both archived now, each with its own copy; make them share one, as the layout of earlier releases did.
    const legacy = writeArtifact(path.join(archive, models.slice(1), 'legacy', 'l.bin'), 'legacy bytes');
    await sut.db.query('UPDATE model_versions SET archive_uri = $2 WHERE id = ANY($1)', [[one.versions[0].id, two.versions[0].id], legacy]);
    await apply({ purge: true });
    await sut.db.query(`UPDATE model_versions SET archived_at = now() - interval '100 days' WHERE id = $1`, [one.versions[0].id]);
    const purged = await apply({ purge: true });
    expect(purged.totals.purged).toBe(1);
    expect(readFileSync(pathOf(legacy), 'utf8')).toBe('legacy bytes');
    await sut.http.post(`/versions/${two.versions[0].id}/restore`).expect(200);
    expect(readFileSync(pathOf(artifact), 'utf8')).toBe('legacy bytes');
    expect(existsSync(pathOf(legacy))).toBe(false);
  });

  it('3. a registration racing the archiving transaction is seen by it: the artifact stays for the new live version', async () => {
    const contested = inRoot('race/r.bin', 'contested bytes');
    const { model, versions } = await modelWithArtifacts(sut.http, sut.db, [contested, inRoot('race/new.bin')]);
    const other = await create(sut.http, '/models', makeModel());
    // Another client is registering the same artifact (different spelling, same normalised URI), not yet committed.
    const client = new Client({ ...testServer(), database: sut.database });
    await client.connect();
    try {
      await client.query('BEGIN');
      const spelled = contested.replace('/race/', '/./race/');
      await client.query(
        `INSERT INTO model_versions (model_id, hash, version, version_sort_key, artifact_uri, artifact_key) VALUES ($1, repeat('c', 64), '9.9.9', '9.9.9', $2, $3)`,
        [other.id, spelled, artifactKey(spelled)],
      );
      const pending = sut.http
        .post('/retention/apply')
        .send({ model_id: model.id, retention_count: 1 })
        .then((response) => response);
      // Wait until the archiving transaction waits for the artifact's lock.
      for (let waited = 0; ; waited += 50) {
        const { rows } = await sut.db.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = 72184`);
        if (rows[0].n > 0) break;
        if (waited > 10_000) throw new Error('the archiving transaction never waited for the artifact lock');
        await sleep(50);
      }
      await client.query('COMMIT');
      const report = (await pending).body;
      expect(archivedOf(report, versions[0].id)).toMatchObject({ artifact: 'copied', reason: 'shared_artifact' });
    } finally {
      await client.end();
    }
    expect(readFileSync(pathOf(contested), 'utf8')).toBe('contested bytes');
  });

  it('4. archive_uri is the service\'s: a client may not set it (400), only echo it; a location set by hand long ago is never trusted', async () => {
    const { model, versions } = await modelWithArtifacts(sut.http, sut.db, [inRoot('own/x.bin', 'x bytes'), inRoot('own/y.bin', 'y bytes'), inRoot('own/live.bin')]);
    const victim = pathToFileURL(path.join(victims, 'v.bin')).href;
    const posted = expectProblem(await sut.http.post('/versions').send(makeVersion(model.id, { archive_uri: victim })), 400, 'validation-error');
    expect(posted.errors).toEqual([{ field: 'archive_uri', message: expect.stringContaining('set by the service') }]);
    expectProblem(await sut.http.put(`/versions/${versions[0].id}`).send({ archive_uri: victim }), 400, 'validation-error');
    await sut.http.put(`/versions/${versions[0].id}`).send({ archive_uri: null }).expect(200);

    await apply({ model_id: model.id });
    const rows = (await sut.db.query('SELECT id, archive_uri FROM model_versions WHERE id = ANY($1) ORDER BY id', [[versions[0].id, versions[1].id]])).rows;
    const [xCopy, yCopy] = rows.map((row: { archive_uri: string }) => row.archive_uri);
    await sut.http.put(`/versions/${versions[0].id}`).send({ archive_uri: xCopy }).expect(200);
    // A pipeline replaying the registration may echo what it read back; nothing else.
    const replay = { model_id: model.id, hash: versions[0].hash, version: versions[0].version, artifact_uri: versions[0].artifact_uri };
    expect((await sut.http.post('/versions').send({ ...replay, archive_uri: xCopy }).expect(200)).body.id).toBe(versions[0].id);
    expectProblem(await sut.http.post('/versions').send({ ...replay, archive_uri: yCopy }), 400, 'validation-error');
    expectProblem(await sut.http.put(`/versions/${versions[0].id}`).send({ archive_uri: yCopy }), 400, 'validation-error');
    expectProblem(await sut.http.put(`/versions/${versions[0].id}`).send({ archive_uri: null }), 400, 'validation-error');

    // Old data: X's archive_uri was set by a client to Y's copy. Restore refuses; Y's copy stays whole.
    await sut.db.query('UPDATE model_versions SET archive_uri = $2 WHERE id = $1', [versions[0].id, yCopy]);
    const refused = expectProblem(await sut.http.post(`/versions/${versions[0].id}/restore`), 409, 'conflict');
    expect(refused.reason).toBe('foreign_archive_uri');
    expect(readFileSync(pathOf(yCopy), 'utf8')).toBe('y bytes');
    await sut.http.post(`/versions/${versions[1].id}/restore`).expect(200);
    expect(readFileSync(pathOf(versions[1].artifact_uri), 'utf8')).toBe('y bytes');

    // Old data: an archive_uri naming a file outside the archive is never moved, restored from or deleted.
    await sut.db.query('UPDATE model_versions SET archive_uri = $2 WHERE id = $1', [versions[0].id, victim]);
    await sut.http.post(`/versions/${versions[0].id}/restore`).expect(200);
    await sut.db.query(`UPDATE model_versions SET archive_uri = $2, archived_at = now() - interval '100 days' WHERE id = $1`, [versions[0].id, victim]);
    await apply({ model_id: model.id, purge: true });
    await sut.db.query(`UPDATE model_versions SET archive_uri = $2, archived_at = now() WHERE id = $1`, [versions[2].id, victim]);
    await sut.http.delete(`/versions/${versions[2].id}`).expect(204);
    await apply({ model_id: model.id });
    expect(fileTree(victims)).toEqual(victimsBefore);
    expect(xCopy).toMatch(/@v\d+$/);
  });
});


describe('artifact safety: the S3 archive under attack', () => {
  let sut: TestApp;
  let s3: Awaited<ReturnType<typeof startS3>>;

  beforeAll(async () => {
    s3 = await startS3(['ml-artifacts', 'victims', 'vault']);
    sut = await createTestApp('artifact-safety-s3', {
      env: { ARCHIVE_STORAGE: 's3', ARCHIVE_BUCKET: 'vault', ARCHIVE_KEY_PREFIX: 'archived/', S3_ENDPOINT: s3.endpoint, S3_FORCE_PATH_STYLE: 'true', ARTIFACT_ROOTS: 's3://ml-artifacts/prod/' },
    });
  });
  afterAll(async () => {
    await sut.close();
    await s3.close();
  });

  const apply = async (body: Record<string, unknown>) => (await sut.http.post('/retention/apply').send({ retention_count: 1, ...body }).expect(200)).body;
  const keyOf = (uri: string) => new URL(uri).pathname.slice(1);

  it('3. a key shared by two models is copied while one still serves it; the last one moves it; each restores', async () => {
    const shared = await s3.put('ml-artifacts', 'prod/shared.bin', 'shared object');
    const outside = await s3.put('victims', 'v.bin', 'victim object');
    const a = await modelWithArtifacts(sut.http, sut.db, [shared, outside, await s3.put('ml-artifacts', 'prod/a-new.bin', 'a')]);
    const b = await modelWithArtifacts(sut.http, sut.db, [shared], { start: '2026-03-01T00:00:00Z' });

    const first = await apply({});
    expect(archivedOf(first, a.versions[0].id)).toMatchObject({ artifact: 'copied', reason: 'shared_artifact' });
    expect(archivedOf(first, a.versions[1].id)).toMatchObject({ artifact: 'recorded', reason: 'outside_artifact_roots', archive_uri: null });
    expect(await s3.get('ml-artifacts', 'prod/shared.bin')).toBe('shared object');

    await create(sut.http, '/versions', makeVersion(b.model.id, { version: '3.0.0', artifact_uri: await s3.put('ml-artifacts', 'prod/b-new.bin', 'b') }));
    expect(archivedOf(await apply({ model_id: b.model.id }), b.versions[0].id)).toMatchObject({ artifact: 'moved' });
    expect(await s3.exists('ml-artifacts', 'prod/shared.bin')).toBe(false);

    const bCopy = (await sut.db.query('SELECT archive_uri FROM model_versions WHERE id = $1', [b.versions[0].id])).rows[0].archive_uri;
    await sut.http.post(`/versions/${a.versions[0].id}/restore`).expect(200);
    expect(await s3.get('ml-artifacts', 'prod/shared.bin')).toBe('shared object');
    expect(await s3.get('vault', keyOf(bCopy))).toBe('shared object');
    await sut.http.post(`/versions/${b.versions[0].id}/restore`).expect(200);
    expect(await s3.get('ml-artifacts', 'prod/shared.bin')).toBe('shared object');
    expect(await s3.exists('vault', keyOf(bCopy))).toBe(false);
    expect(await s3.get('victims', 'v.bin')).toBe('victim object');
  });

  it('4. a client-chosen archive key is refused (400) and an old one set by hand is never trusted; restore never overwrites a key', async () => {
    const { model, versions } = await modelWithArtifacts(sut.http, sut.db, [
      await s3.put('ml-artifacts', 'prod/x.bin', 'x object'),
      await s3.put('ml-artifacts', 'prod/y.bin', 'y object'),
      await s3.put('ml-artifacts', 'prod/live.bin', 'live'),
    ]);
    expectProblem(await sut.http.post('/versions').send(makeVersion(model.id, { archive_uri: 's3://vault/archived/anything' })), 400, 'validation-error');
    expectProblem(await sut.http.put(`/versions/${versions[0].id}`).send({ archive_uri: 's3://victims/v.bin' }), 400, 'validation-error');
    await apply({ model_id: model.id });
    const yCopy = (await sut.db.query('SELECT archive_uri FROM model_versions WHERE id = $1', [versions[1].id])).rows[0].archive_uri;

    await sut.db.query('UPDATE model_versions SET archive_uri = $2 WHERE id = $1', [versions[0].id, yCopy]);
    expect(expectProblem(await sut.http.post(`/versions/${versions[0].id}/restore`), 409, 'conflict').reason).toBe('foreign_archive_uri');
    expect(await s3.get('vault', keyOf(yCopy))).toBe('y object');

    await s3.put('ml-artifacts', 'prod/y.bin', 'someone else\'s new object');
    expectProblem(await sut.http.post(`/versions/${versions[1].id}/restore`), 409, 'artifact-exists');
    expect(await s3.get('ml-artifacts', 'prod/y.bin')).toBe('someone else\'s new object');
    expect(await s3.get('vault', keyOf(yCopy))).toBe('y object');
  });
});
