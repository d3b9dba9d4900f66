/**
 * Scale: how costs grow with the catalog. The catalog grows through the sizes given (versions, 20 per
 * model); at each size the built service is measured as it runs: the first and a deep page of the
 * versions list (keyset), GET /stats, a retention dry run and real run (file adapter, real files),
 * and the service's peak RSS. Usage:
 *   npm run bench:scale -- [--sizes 10000,100000,1000000] [--requests 200] [--no-build]
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { filterFingerprint, encodePageToken } from '../src/common/pagination/page-token';
import { benchServer, freshDatabase, migrate, serviceDatabaseEnv, withClient } from './lib/database';
import { flag, listFlag, numberFlag } from './lib/args';
import { mb, ms, printTable, saveResults } from './lib/report';
import { seedCatalog } from './lib/seed';
import { BenchService, buildService, ROOT, rssBytes, withPeakRss } from './lib/service';

const SIZES = listFlag('sizes', ['10000', '100000', '1000000']).map(Number);
const REQUESTS = numberFlag('requests', 200);
const VERSIONS_PER_MODEL = 20;
const DATABASE = 'mr_bench_scale';
const WORK = path.join(ROOT, '.data', 'bench-scale');
const ARTIFACTS = path.join(WORK, 'artifacts');

async function latency(url: string, n: number): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(n / 2)], p99: times[Math.min(n - 1, Math.floor(n * 0.99))] };
}

async function createArtifacts(fromModel: number, toModel: number): Promise<void> {
  let next = fromModel;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next <= toModel) {
        const m = next++;
        const dir = path.join(ARTIFACTS, `m${m}`);
        await mkdir(dir, { recursive: true });
        for (let n = 1; n <= VERSIONS_PER_MODEL; n++) await writeFile(path.join(dir, `v${n}.bin`), `weights ${m}/${n}\n`);
      }
    }),
  );
}

async function main(): Promise<void> {
  if (flag('no-build') === undefined) buildService();
  const { server, stop } = await benchServer();
  let service: BenchService | undefined;
  await rm(WORK, { recursive: true, force: true });
  try {
    await freshDatabase(server, DATABASE);
    await migrate(server, DATABASE);
    service = await BenchService.start({
      ...serviceDatabaseEnv(server, DATABASE),
      RETENTION_ENABLED: 'false',
      ARCHIVE_STORAGE: 'file',
      ARCHIVE_DIR: path.join(WORK, 'archive'),
      ARTIFACT_ROOTS: `file://${ARTIFACTS}/`,
      DB_STATEMENT_TIMEOUT_MS: '0',
    });
    const rows: Record<string, string | number>[] = [];
    const results: unknown[] = [];
    let models = 0;
    for (const size of SIZES) {
      const target = size / VERSIONS_PER_MODEL;
      console.log(`Growing the catalog to ${size} versions (${target} models)…`);
      await withClient(server, DATABASE, (client) =>
        seedCatalog(client, { models: target - models, versionsPerModel: VERSIONS_PER_MODEL, bindingsPerVersion: 0 }, { artifactDir: ARTIFACTS, startModel: models + 1 }),
      );
      await createArtifacts(models + 1, target);
      models = target;

      // A page 90% of the way down the catalog-wide list, as a client would reach it by paging.
      const deep = await withClient(server, DATABASE, async (client) => {
        const { rows: [row] } = await client.query(
          `SELECT (v.created_at)::text AS value, v.id FROM model_versions v ORDER BY v.created_at DESC, v.id DESC OFFSET $1 LIMIT 1`,
          [Math.floor(size * 0.9)],
        );
        return encodePageToken({ sort: '-created_at', value: row.value, id: Number(row.id) }, filterFingerprint({}));
      });
      const first = await latency(service.url('/versions?limit=20'), REQUESTS);
      const deepPage = await latency(service.url(`/versions?limit=20&page_token=${deep}`), REQUESTS);
      const stats = await latency(service.url('/stats'), REQUESTS);
      const rssBefore = rssBytes(service.pid);
      const dry = await withPeakRss(service.pid, async () => {
        const started = performance.now();
        const report = await service!.post<{ totals: { archived: number } }>('/retention/apply', { dry_run: true });
        return { ms: performance.now() - started, archived: report.totals.archived };
      });
      const real = await withPeakRss(service.pid, async () => {
        const started = performance.now();
        const report = await service!.post<{ totals: { archived: number; failed: number } }>('/retention/apply', {});
        if (report.totals.failed > 0) throw new Error(`${report.totals.failed} versions failed to archive`);
        return { ms: performance.now() - started, archived: report.totals.archived };
      });
      const result = {
        versions: size,
        first_page: first,
        deep_page: deepPage,
        stats,
        retention_dry: dry.result,
        retention_real: real.result,
        rss_before: rssBefore,
        rss_peak: Math.max(dry.peakBytes, real.peakBytes),
      };
      results.push(result);
      rows.push({
        versions: size,
        'first page p50': ms(first.p50),
        'deep page p50': ms(deepPage.p50),
        'deep/first': (deepPage.p50 / first.p50).toFixed(2),
        'stats p50': ms(stats.p50),
        'stats p99': ms(stats.p99),
        'retention dry run': ms(dry.result.ms),
        'retention real run': ms(real.result.ms),
        archived: real.result.archived,
        'RSS before': mb(rssBefore),
        'RSS peak': mb(result.rss_peak),
      });
      printTable(`Scale (so far)`, rows);
    }
    printTable(`Scale: versions list, stats and retention as the catalog grows (${REQUESTS} sequential requests per latency)`, rows);
    console.log(`\nSaved ${saveResults('scale', results)}`);
  } finally {
    await service?.stop();
    await rm(WORK, { recursive: true, force: true });
    await stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
