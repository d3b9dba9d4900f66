import { mkdtempSync, existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
// eslint-disable-next-line @typescript-eslint/no-require-imports
import S3rver = require('s3rver');
import { expectProblem } from './support/problem';
import { sha256 } from './support/factories';
import { archivedIds, modelWithArtifacts } from './support/retention';
import { createTestApp, setEnv, type TestApp } from './support/test-app';

const versionsWithArtifacts = (sut: TestApp, artifacts: (string | null)[]) => modelWithArtifacts(sut.http, sut.db, artifacts);

describe('retention with the file archive', () => {
  let sut: TestApp;
  let root: string;
  let archiveDir: string;

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'mr-file-archive-'));
    archiveDir = path.join(root, 'archive');
    sut = await createTestApp('retention-file', { env: { ARCHIVE_STORAGE: 'file', ARCHIVE_DIR: archiveDir, ARTIFACT_ROOTS: pathToFileURL(path.join(root, 'models')).href } });
  });
  afterAll(async () => {
    await sut.close();
    rmSync(root, { recursive: true, force: true });
  });

  const artifact = (name: string, content = `weights of ${name}`) => {
    const file = path.join(root, 'models', name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
    return pathToFileURL(file).href;
  };
  /** Where the file archive keeps version `id`'s artifact: its path under ARCHIVE_DIR, suffixed with the version. */
  const archivedPath = (artifactUri: string, id: number) => `${path.join(archiveDir, new URL(artifactUri).pathname)}@v${id}`;

  it('moves artifacts into the archive folder, records archive_uri, records the ones outside the roots, and continues past a failed one', async () => {
    const uris = [artifact('a/v0.bin'), `file://${path.join(root, 'models', 'missing.bin')}`, null, 's3://elsewhere/v3.bin', artifact('a/v4.bin'), artifact('a/v5.bin'), artifact('a/v6.bin')];
    const { model, versions } = await versionsWithArtifacts(sut, uris);

    const response = await sut.http.post('/retention/apply').send({ model_id: model.id }).expect(200);
    expect(response.body).toMatchObject({ status: 'partial', storage: 'file', totals: { archived: 3, failed: 1, kept: 3 } });
    const entry = response.body.models[0];
    expect(entry.archived).toEqual([
      { version_id: versions[3].id, version: '2.3.0', artifact_uri: uris[3], archive_uri: null, artifact: 'recorded', reason: 'outside_artifact_roots' },
      { version_id: versions[2].id, version: '2.2.0', artifact_uri: null, archive_uri: null, artifact: 'none' },
      { version_id: versions[0].id, version: '2.0.0', artifact_uri: uris[0], archive_uri: pathToFileURL(archivedPath(uris[0]!, versions[0].id)).href, artifact: 'moved' },
    ]);
    expect(entry.failed.map((f: { version_id: number }) => f.version_id)).toEqual([versions[1].id]);
    // Storage errors are reported by category: no server paths in the answer.
    expect(entry.failed[0].error).toBe('not_found: the artifact does not exist');
    expect(JSON.stringify(response.body)).not.toContain('ENOENT');

    // The file moved; the failed version is untouched and still live.
    expect(existsSync(new URL(uris[0]!))).toBe(false);
    expect(readFileSync(archivedPath(uris[0]!, versions[0].id), 'utf8')).toBe('weights of a/v0.bin');
    expect(await archivedIds(sut.db, model.id)).toEqual([versions[0].id, versions[2].id, versions[3].id]);

    const run = await sut.http.get(`/retention/runs/${response.body.run_id}`).expect(200);
    expect(run.body.status).toBe('partial');
    expect(run.body.failures).toHaveLength(1);
  });

  it('restores the artifact to its original place and removes the archived copy', async () => {
    const uris = [artifact('b/v0.bin', 'original bytes'), artifact('b/v1.bin'), artifact('b/v2.bin'), artifact('b/v3.bin')];
    const { model, versions } = await versionsWithArtifacts(sut, uris);
    await sut.http.post('/retention/apply').send({ model_id: model.id }).expect(200);
    expect(existsSync(new URL(uris[0]))).toBe(false);

    const restored = await sut.http.post(`/versions/${versions[0].id}/restore`).expect(200);
    expect(restored.body).toMatchObject({ archived_at: null, archive_uri: null, artifact_uri: uris[0] });
    expect(readFileSync(new URL(uris[0]), 'utf8')).toBe('original bytes');
    expect(existsSync(archivedPath(uris[0], versions[0].id))).toBe(false);
  });

  it('refuses to restore when the archived copy is gone, and leaves the version archived', async () => {
    const uris = [artifact('c/v0.bin'), artifact('c/v1.bin'), artifact('c/v2.bin'), artifact('c/v3.bin')];
    const { model, versions } = await versionsWithArtifacts(sut, uris);
    await sut.http.post('/retention/apply').send({ model_id: model.id }).expect(200);
    rmSync(archivedPath(uris[0], versions[0].id));
    expectProblem(await sut.http.post(`/versions/${versions[0].id}/restore`), 409, 'conflict');
    expect(await archivedIds(sut.db, model.id)).toEqual([versions[0].id]);
  });

  it('purge deletes the archived file, then the row', async () => {
    const uris = [artifact('d/v0.bin'), artifact('d/v1.bin'), artifact('d/v2.bin'), artifact('d/v3.bin')];
    const { model, versions } = await versionsWithArtifacts(sut, uris);
    await sut.http.post('/retention/apply').send({ model_id: model.id }).expect(200);
    expect(existsSync(archivedPath(uris[0], versions[0].id))).toBe(true);
    await sut.db.query("UPDATE model_versions SET archived_at = now() - interval '91 days' WHERE id = $1", [versions[0].id]);
    const response = await sut.http.post('/retention/apply').send({ model_id: model.id, purge: true }).expect(200);
    expect(response.body.totals.purged).toBe(1);
    expect(existsSync(archivedPath(uris[0], versions[0].id))).toBe(false);
    expectProblem(await sut.http.get(`/versions/${versions[0].id}`), 404, 'not-found');
  });
});

describe('retention with the S3 archive (against a local S3 server)', () => {
  let sut: TestApp;
  let s3rver: S3rver;
  let s3: S3Client;
  let directory: string;
  let restoreCredentials: () => void;

  beforeAll(async () => {
    directory = mkdtempSync(path.join(tmpdir(), 'mr-s3rver-'));
    s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, resetOnClose: true });
    const { port } = (await s3rver.run()) as { port: number };
    const endpoint = `http://127.0.0.1:${port}`;
    s3 = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    // The service finds credentials the standard AWS way (here: the environment), when it first calls S3.
    restoreCredentials = setEnv({ AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
    for (const bucket of ['models', 'model-archive']) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    sut = await createTestApp('retention-s3', {
      env: {
        ARCHIVE_STORAGE: 's3',
        ARCHIVE_BUCKET: 'model-archive',
        ARCHIVE_KEY_PREFIX: 'archived/',
        S3_ENDPOINT: endpoint,
        S3_FORCE_PATH_STYLE: 'true',
        ARTIFACT_ROOTS: 's3://models/',
      },
    });
  });
  afterAll(async () => {
    await sut.close();
    s3.destroy();
    await s3rver.close();
    restoreCredentials();
    rmSync(directory, { recursive: true, force: true });
  });

  const put = async (key: string, body: string) => {
    await s3.send(new PutObjectCommand({ Bucket: 'models', Key: key, Body: body, ContentType: 'application/octet-stream', Metadata: { sha256: sha256(body) } }));
    return `s3://models/${key}`;
  };
  const head = (bucket: string, key: string) => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    (h) => h,
    () => undefined,
  );

  it('copies into the archive bucket as GLACIER keeping type and metadata, then deletes the original; a missing artifact fails alone', async () => {
    const uris = [await put('gpt/v0/model.bin', 'zero'), 's3://models/gpt/v1/gone.bin', await put('gpt/v2/model.bin', 'two'), await put('gpt/v3/model.bin', 'three'), await put('gpt/v4/model.bin', 'four')];
    const { model, versions } = await versionsWithArtifacts(sut, uris);

    const response = await sut.http.post('/retention/apply').send({ model_id: model.id }).expect(200);
    expect(response.body).toMatchObject({ status: 'partial', storage: 's3', totals: { archived: 1, failed: 1 } });
    expect(response.body.models[0].archived).toEqual([
      { version_id: versions[0].id, version: '2.0.0', artifact_uri: uris[0], archive_uri: `s3://model-archive/archived/models/gpt/v0/model.bin@v${versions[0].id}`, artifact: 'moved' },
    ]);
    expect(response.body.models[0].failed[0]).toEqual({ version_id: versions[1].id, version: '2.1.0', error: 'not_found: the artifact does not exist' });

    const archived = await head('model-archive', `archived/models/gpt/v0/model.bin@v${versions[0].id}`);
    expect(archived).toMatchObject({ StorageClass: 'GLACIER', ContentType: 'application/octet-stream', Metadata: { sha256: sha256('zero') } });
    expect(await head('models', 'gpt/v0/model.bin')).toBeUndefined();
    expect(await archivedIds(sut.db, model.id)).toEqual([versions[0].id]);
  });

  it('restores from the archive bucket to the original key and deletes the archived copy', async () => {
    const uris = [await put('emb/v0/model.bin', 'restore me'), await put('emb/v1/model.bin', 'x'), await put('emb/v2/model.bin', 'x'), await put('emb/v3/model.bin', 'x')];
    const { model, versions } = await versionsWithArtifacts(sut, uris);
    await sut.http.post('/retention/apply').send({ model_id: model.id }).expect(200);
    await sut.http.post(`/versions/${versions[0].id}/restore`).expect(200);
    const body = await (await s3.send(new GetObjectCommand({ Bucket: 'models', Key: 'emb/v0/model.bin' }))).Body!.transformToString();
    expect(body).toBe('restore me');
    expect(await head('model-archive', `archived/models/emb/v0/model.bin@v${versions[0].id}`)).toBeUndefined();
    expect(await archivedIds(sut.db, model.id)).toEqual([]);
  });

  it('purge deletes the archived object and the row', async () => {
    const uris = [await put('rr/v0/model.bin', 'old'), await put('rr/v1/model.bin', 'x'), await put('rr/v2/model.bin', 'x'), await put('rr/v3/model.bin', 'x')];
    const { model, versions } = await versionsWithArtifacts(sut, uris);
    await sut.http.post('/retention/apply').send({ model_id: model.id }).expect(200);
    await sut.db.query("UPDATE model_versions SET archived_at = now() - interval '100 days' WHERE id = $1", [versions[0].id]);
    expect(await head('model-archive', `archived/models/rr/v0/model.bin@v${versions[0].id}`)).toBeDefined();
    await sut.http.post('/retention/apply').send({ model_id: model.id, purge: true }).expect(200);
    expect(await head('model-archive', `archived/models/rr/v0/model.bin@v${versions[0].id}`)).toBeUndefined();
    const { rows } = await sut.db.query('SELECT id FROM model_versions WHERE id = $1', [versions[0].id]);
    expect(rows).toEqual([]);
  });
});
