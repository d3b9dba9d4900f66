/**
 * Retention at scale: dry run, real run and a second (idle) run over a seeded catalog, with no
 * archive storage and with the file adapter, against the raw set-based SQL floor measured in the
 * same run. Usage: npm run bench:retention -- [--models 10000] [--versions 20] [--batch 500] [--no-build]
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { benchServer, freshDatabase, dropDatabase, migrate, serviceDatabaseEnv, withClient, type Server } from './lib/database';
import { mb, ms, printTable, saveResults } from './lib/report';
import { BenchService, buildService, ROOT, withPeakRss } from './lib/service';

const arg = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const MODELS = arg('models', 10_000);
const VERSIONS = arg('versions', 20);
const BATCH = arg('batch', 500);
const WORK = path.join(ROOT, '.data', 'bench-retention');
const ARTIFACTS = path.join(WORK, 'artifacts');
const SEED_DB = 'mr_bench_retention_seed';

interface Report {
  totals: { archived: number; kept: number; failed: number; models: number };
}

async function seed(server: Server): Promise<void> {
  await freshDatabase(server, SEED_DB);
  await migrate(server, SEED_DB);
  await withClient(server, SEED_DB, async (client) => {
    await client.query(`INSERT INTO models (name, task, subject) SELECT 'bench-' || g, 'generation', 'general' FROM generate_series(1, $1) g`, [MODELS]);
    await client.query(
      `INSERT INTO model_versions (model_id, hash, version, version_sort_key, artifact_uri, artifact_key, size_bytes, pinned, created_at)
       SELECT m.id, md5(m.id || ':' || n) || md5(n || ':' || m.id), '1.0.' || n, lpad(n::text, 20, '0'),
              'file://' || $2 || '/m' || m.id || '/v' || n || '.bin', 'file://' || $2 || '/m' || m.id || '/v' || n || '.bin', 1000000 + n,
              (m.id % 20 = 0 AND n = 2), timestamptz '2026-01-01' + (n || ' hours')::interval
         FROM models m CROSS JOIN generate_series(1, $1) n`,
      [VERSIONS, ARTIFACTS],
    );
    // The newest version of every model is routed to; every tenth model also still routes to its oldest.
    await client.query(
      `INSERT INTO provider_bindings (version_id, provider, provider_model_id, status)
       SELECT v.id, 'openai', 'pm-' || v.id, 'active' FROM model_versions v
        WHERE v.version = '1.0.' || $1 OR (v.version = '1.0.1' AND v.model_id % 10 = 0)`,
      [VERSIONS],
    );
    await client.query('ANALYZE');
  });
}

async function createArtifacts(): Promise<void> {
  await rm(WORK, { recursive: true, force: true });
  const jobs: (() => Promise<void>)[] = [];
  for (let m = 1; m <= MODELS; m++) {
    jobs.push(async () => {
      const dir = path.join(ARTIFACTS, `m${m}`);
      await mkdir(dir, { recursive: true });
      for (let n = 1; n <= VERSIONS; n++) await writeFile(path.join(dir, `v${n}.bin`), `weights ${m}/${n}\n`);
    });
  }
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < jobs.length) await jobs[next++]();
  }));
}

/** The floor: the same selection and update as one raw set-based statement (no storage, no report). */
async function floor(server: Server): Promise<{ ms: number; archived: number }> {
  const db = 'mr_bench_retention_floor';
  await freshDatabase(server, db, SEED_DB);
  try {
    return await withClient(server, db, async (client) => {
      const started = performance.now();
      const result = await client.query(
        `UPDATE model_versions v SET archived_at = now(), archive_uri = 'archive://' || regexp_replace(v.artifact_uri, '^[a-z]+://', ''), updated_at = now()
           FROM (SELECT id, row_number() OVER (PARTITION BY model_id ORDER BY created_at DESC, id DESC) AS rank
                   FROM model_versions WHERE archived_at IS NULL) r
          WHERE r.id = v.id AND r.rank > 3 AND NOT v.pinned
            AND NOT EXISTS (SELECT 1 FROM provider_bindings b WHERE b.version_id = v.id AND b.status = 'active')`,
      );
      return { ms: performance.now() - started, archived: result.rowCount ?? 0 };
    });
  } finally {
    await dropDatabase(server, db);
  }
}

async function measureMode(server: Server, storage: 'none' | 'file') {
  const db = `mr_bench_retention_${storage}`;
  await freshDatabase(server, db, SEED_DB);
  const service = await BenchService.start({
    ...serviceDatabaseEnv(server, db),
    ARCHIVE_STORAGE: storage,
    ARCHIVE_DIR: path.join(WORK, 'archive'),
    ARTIFACT_ROOTS: `file://${ARTIFACTS}/`,
    RETENTION_ENABLED: 'false',
    RETENTION_BATCH_SIZE: String(BATCH),
    DB_STATEMENT_TIMEOUT_MS: '0',
  });
  const phases: { phase: string; ms: number; archived: number; beforeBytes: number; peakBytes: number }[] = [];
  try {
    for (const [phase, body] of [
      ['dry run', { dry_run: true }],
      ['real run', {}],
      ['nothing left to archive', {}],
    ] as const) {
      const started = performance.now();
      const { result, peakBytes, beforeBytes } = await withPeakRss(service.pid, () => service.post<Report>('/retention/apply', body));
      phases.push({ phase, ms: performance.now() - started, archived: result.totals.archived, beforeBytes, peakBytes });
      if (result.totals.failed > 0) throw new Error(`${storage} ${phase}: ${result.totals.failed} versions failed`);
    }
  } finally {
    await service.stop();
    await dropDatabase(server, db);
  }
  return phases;
}

async function countFiles(dir: string): Promise<number> {
  let count = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) if (entry.isFile()) count++;
  return count;
}

async function main(): Promise<void> {
  if (!process.argv.includes('--no-build')) buildService();
  const { server, stop } = await benchServer();
  try {
    console.log(`Seeding ${MODELS} models × ${VERSIONS} versions…`);
    await seed(server);
    const base = await floor(server);
    const results: Record<string, unknown> = { models: MODELS, versions: MODELS * VERSIONS, floor: base };
    const rows: Record<string, string | number>[] = [{ storage: '(floor: one raw UPDATE)', phase: 'real run', archived: base.archived, time: ms(base.ms), 'vs floor': '1.00', 'RSS before': '', 'RSS peak': '', growth: '' }];
    for (const storage of ['none', 'file'] as const) {
      if (storage === 'file') {
        console.log(`Creating ${MODELS * VERSIONS} artifact files…`);
        await createArtifacts();
      }
      const phases = await measureMode(server, storage);
      results[storage] = phases;
      for (const p of phases) {
        rows.push({
          storage,
          phase: p.phase,
          archived: p.archived,
          time: ms(p.ms),
          'vs floor': (p.ms / base.ms).toFixed(2),
          'RSS before': mb(p.beforeBytes),
          'RSS peak': mb(p.peakBytes),
          growth: mb(p.peakBytes - p.beforeBytes),
        });
      }
      if (storage === 'file') {
        const archivedFiles = await countFiles(path.join(WORK, 'archive'));
        results.file_check = { archived_files: archivedFiles, left_in_place: await countFiles(ARTIFACTS) };
        console.log(`file adapter: ${archivedFiles} files in the archive folder, ${(results.file_check as { left_in_place: number }).left_in_place} left in place`);
      }
    }
    printTable(`Retention over ${MODELS} models × ${VERSIONS} versions (${MODELS * VERSIONS} versions)`, rows);
    console.log(`\nSaved ${saveResults('retention', results)}`);
  } finally {
    await dropDatabase(server, SEED_DB).catch(() => undefined);
    await rm(WORK, { recursive: true, force: true });
    await stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
