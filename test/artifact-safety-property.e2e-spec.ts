/**
 * A property over random catalogs whose versions share artifacts (within and across models), and
 * random sequences of retention (with purge), restore, registration and pinning: after every step,
 * every live version's artifact and every archived version's archive copy exist with their bytes, no
 * temporary file is left, and the file outside the roots is untouched; after each run or restore no
 * original is orphaned and every archive byte belongs to an archived version.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { pathOf, regularFiles, tempFiles } from './support/artifacts';
import { create, makeModel, makeVersion } from './support/factories';
import { createTestApp, type TestApp } from './support/test-app';

const contentOf = (file: string) => `bytes of ${file} ${createHash('sha256').update(file).digest('hex').slice(0, 16)}`;

const step = fc.oneof(
  fc.record({ kind: fc.constant('apply' as const), keep: fc.integer({ min: 1, max: 3 }), purge: fc.boolean(), age: fc.boolean() }),
  fc.record({ kind: fc.constant('restore' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('register' as const), model: fc.nat(), artifact: fc.nat() }),
  fc.record({ kind: fc.constant('pin' as const), pick: fc.nat() }),
);
const catalog = fc.record({
  // Per model, its versions' artifacts (oldest first) as indexes into a small pool, so they repeat.
  models: fc.array(fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 4 }), { minLength: 2, maxLength: 3 }),
  steps: fc.array(step, { minLength: 2, maxLength: 6 }),
});

describe('artifact safety over random catalogs with shared artifacts (property)', () => {
  let sut: TestApp;
  let base: string;
  let root: string;
  let outside: string;
  let archive: string;
  let outsideFile: string;

  beforeAll(async () => {
    base = mkdtempSync(path.join(tmpdir(), 'mr-artifact-property-'));
    root = path.join(base, 'models');
    outside = path.join(base, 'elsewhere');
    archive = path.join(base, 'archive');
    mkdirSync(root, { recursive: true });
    mkdirSync(outside, { recursive: true });
    outsideFile = path.join(outside, 'not-ours.bin');
    writeFileSync(outsideFile, contentOf(outsideFile));
    sut = await createTestApp('artifact-property', { env: { ARCHIVE_STORAGE: 'file', ARCHIVE_DIR: archive, ARTIFACT_ROOTS: `${pathToFileURL(root).href}/` } });
  });
  afterAll(async () => {
    await sut.close();
    rmSync(base, { recursive: true, force: true });
  });

  async function check(run: number, after: string, settled: boolean): Promise<void> {
    const { rows } = await sut.db.query('SELECT id, artifact_uri, artifact_key, archive_uri, archived_at FROM model_versions ORDER BY id');
    const problems: string[] = tempFiles(root, archive).map((file) => `temporary file ${file}`);
    const intact = (file: string, expected: string) => existsSync(file) && readFileSync(file, 'utf8') === expected;
    const liveKeys = new Set(rows.filter((r: { archived_at: Date | null }) => r.archived_at === null).map((r: { artifact_key: string }) => r.artifact_key));
    for (const row of rows) {
      const original = pathOf(row.artifact_uri);
      if (row.archived_at === null) {
        if (!intact(original, contentOf(original))) problems.push(`live version ${row.id} lost ${original}`);
      } else if (row.archive_uri !== null) {
        if (!intact(pathOf(row.archive_uri), contentOf(original))) problems.push(`archived version ${row.id} lost its copy ${row.archive_uri}`);
        if (settled && existsSync(original) && !liveKeys.has(row.artifact_key)) problems.push(`orphaned original of ${row.id}: ${original}`);
      }
    }
    if (!intact(outsideFile, contentOf(outsideFile))) problems.push('the file outside the roots changed');
    if (settled) {
      const referenced = new Set(rows.filter((r: { archive_uri: string | null }) => r.archive_uri).map((r: { archive_uri: string }) => pathOf(r.archive_uri)));
      for (const file of regularFiles(archive)) if (!referenced.has(file)) problems.push(`archive file nobody references: ${file}`);
    }
    expect({ run, after, problems }).toEqual({ run, after, problems: [] });
  }

  let runs = 0;

  it('keeps every live artifact and every archive copy through any sequence of retention, purge, restore, registration and pinning', async () => {
    await fc.assert(
      fc.asyncProperty(catalog, async ({ models: spec, steps }) => {
        const run = ++runs;
        // A fresh catalog each run (the previous one's archive copies are released by the first run or restore).
        await sut.db.query('DELETE FROM models');
        const pool = [0, 1, 2, 3, 4].map((i) => path.join(root, `run${run}`, i % 2 ? 'a' : 'b', `artifact-${i}.bin`)).concat(outsideFile);
        const upload = (index: number) => {
          const file = pool[index % pool.length];
          if (!existsSync(file)) {
            mkdirSync(path.dirname(file), { recursive: true });
            writeFileSync(file, contentOf(file));
          }
          return pathToFileURL(file).href;
        };
        const models: number[] = [];
        let sequence = 0;
        for (const artifacts of spec) {
          const model = await create(sut.http, '/models', makeModel());
          models.push(model.id);
          for (const index of artifacts) await create(sut.http, '/versions', makeVersion(model.id, { version: `1.0.${++sequence}`, artifact_uri: upload(index) }));
        }
        await check(run, 'registration', false);

        for (const [i, action] of steps.entries()) {
          const label = `${i}: ${JSON.stringify(action)}`;
          const { rows: versions } = await sut.db.query('SELECT id, pinned, archived_at FROM model_versions ORDER BY id');
          if (action.kind === 'apply') {
            if (action.age) await sut.db.query(`UPDATE model_versions SET archived_at = now() - interval '100 days' WHERE archived_at IS NOT NULL`);
            await sut.http.post('/retention/apply').send({ retention_count: action.keep, purge: action.purge }).expect(200);
          } else if (action.kind === 'restore') {
            const archived = versions.filter((v: { archived_at: Date | null }) => v.archived_at !== null);
            if (archived.length === 0) continue;
            const response = await sut.http.post(`/versions/${archived[action.pick % archived.length].id}/restore`);
            // 409 artifact-exists: a live version re-uploaded other bytes to the same place meanwhile; nothing is overwritten.
            expect({ label, status: response.status, code: response.body.code }).toEqual({ label, status: response.status === 200 ? 200 : 409, code: response.status === 200 ? undefined : 'artifact-exists' });
          } else if (action.kind === 'register') {
            await create(sut.http, '/versions', makeVersion(models[action.model % models.length], { version: `1.0.${++sequence}`, artifact_uri: upload(action.artifact) }));
          } else {
            const version = versions[action.pick % versions.length];
            await sut.http.put(`/versions/${version.id}`).send({ pinned: !version.pinned }).expect(200);
          }
          await check(run, label, action.kind === 'apply' || action.kind === 'restore');
        }
      }),
      { numRuns: 12 },
    );
  });
});
