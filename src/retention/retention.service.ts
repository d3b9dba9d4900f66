import { hostname } from 'node:os';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Counter } from '@opentelemetry/api';
import { MetricService } from 'nestjs-otel';
import type { ConfigType } from '@nestjs/config';
import { AuditLog } from '../audit/audit-log.service';
import { ApplicationError, ConflictError, ResourceNotFoundError, ServiceUnavailableError } from '../common/errors/application.error';
import { Clock } from '../common/clock';
import { retentionConfig } from '../config/retention.config';
import { withTryAdvisoryLock } from '../database/dedicated-client';
import { ModelsRepository } from '../models/models.repository';
import { VersionResponseDto } from '../versions/dto/version-response.dto';
import { VersionsRepository } from '../versions/versions.repository';
import type { ArchivedVersionDto, FailedVersionDto, KeptVersionDto, ModelRetentionDto, PurgedVersionDto, RetentionReportDto } from './dto/retention-report.dto';
import { classifyVersions, effectiveRetentionCount, purgeCutoff } from './retention-policy';
import { RetentionRepository, type RankedVersion, type RunCounts } from './retention.repository';
import type { RunStatus, RunTrigger } from './retention-run.entity';
import { ARCHIVE_STORAGE, ArchivedArtifactMissingError, ArchiveRestorePendingError, storageFailureReason, type ArchiveStorage } from './storage/archive-storage';

/** pg_advisory_lock key: one real (non-dry) retention run at a time across replicas. */
export const RETENTION_LOCK_KEY = 7_218_342_961_553_120_002n;
/** Models detailed in a report (a catalog-wide run's totals always count every model); models with failures get room beyond it. */
const MAX_REPORT_MODELS = 100;
const MAX_RECORDED_FAILURES = 100;

export interface ApplyOptions {
  trigger: RunTrigger;
  scheduledFor?: Date;
  modelId?: number;
  retentionCount?: number;
  dryRun: boolean;
  purge: boolean;
}

export class RetentionRunInProgressError extends ConflictError {
  constructor() {
    super('Another retention run is in progress. Retry when it has finished (see GET /retention/stats).');
  }
}

/** Collects what a run did, per model and in total. */
class RunReport {
  readonly models = new Map<number, ModelRetentionDto>();
  readonly totals = { models: 0, kept: 0, archived: 0, archived_bytes: 0, failed: 0, purged: 0 };
  readonly failures: (FailedVersionDto & { model_id: number })[] = [];
  truncated = false;

  entry(model: { id: number; name: string; keep: number }): ModelRetentionDto {
    let entry = this.models.get(model.id);
    if (!entry) {
      entry = { model_id: model.id, model_name: model.name, retention_count: model.keep, kept: [], archived: [], failed: [], purged: [] };
      if (this.models.size < MAX_REPORT_MODELS) this.models.set(model.id, entry);
      else this.truncated = true;
    }
    return entry;
  }

  fail(entry: ModelRetentionDto, failure: FailedVersionDto): void {
    if (!this.models.has(entry.model_id) && this.models.size < 2 * MAX_REPORT_MODELS) this.models.set(entry.model_id, entry);
    entry.failed.push(failure);
    this.totals.failed++;
    if (this.failures.length < MAX_RECORDED_FAILURES) this.failures.push({ ...failure, model_id: entry.model_id });
  }

  counts(): RunCounts {
    return {
      models_count: this.totals.models,
      kept_count: this.totals.kept,
      archived_count: this.totals.archived,
      archived_bytes: this.totals.archived_bytes,
      failed_count: this.totals.failed,
      purged_count: this.totals.purged,
      failures: this.failures,
    };
  }
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function forEachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(workers);
}

@Injectable()
export class RetentionService {
  private readonly logger = new Logger(RetentionService.name);
  private readonly instance = `${hostname()}:${process.pid}`;

  constructor(
    private readonly retention: RetentionRepository,
    private readonly models: ModelsRepository,
    private readonly versions: VersionsRepository,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    @Inject(ARCHIVE_STORAGE) private readonly storage: ArchiveStorage,
    @Inject(retentionConfig.KEY) private readonly config: ConfigType<typeof retentionConfig>,
    metrics: MetricService,
  ) {
    this.metrics = {
      runs: metrics.getCounter('retention.runs', { description: 'Retention runs finished, by trigger, status and dry run.' }),
      archived: metrics.getCounter('retention.versions.archived', { description: 'Versions archived by retention (real runs).' }),
      purged: metrics.getCounter('retention.versions.purged', { description: 'Versions purged by retention (real runs).' }),
      failed: metrics.getCounter('retention.versions.failed', { description: 'Versions retention could not archive or purge (real runs).' }),
    };
  }

  private readonly metrics: Record<'runs' | 'archived' | 'purged' | 'failed', Counter>;

  /** Records a finished run in the database and in the retention metrics. */
  private async finish(runId: number, options: ApplyOptions, status: RunStatus, report: RunReport, error?: string): Promise<void> {
    this.metrics.runs.add(1, { trigger: options.trigger, status, dry_run: options.dryRun });
    if (!options.dryRun) {
      this.metrics.archived.add(report.totals.archived);
      this.metrics.purged.add(report.totals.purged);
      this.metrics.failed.add(report.totals.failed);
    }
    await this.retention.finishRun(runId, status, report.counts(), error);
  }

  get storageKind(): string {
    return this.storage.kind;
  }

  /**
   * Applies (or, with dryRun, previews) the policy. Real runs hold a cluster-wide lock; a manual one
   * that finds another run in progress gets a 409. Returns undefined only for a scheduled slot that
   * another replica already claimed.
   */
  async apply(options: ApplyOptions): Promise<RetentionReportDto | undefined> {
    if (options.modelId !== undefined && !(await this.models.findById(options.modelId))) {
      throw new ResourceNotFoundError('model', options.modelId);
    }
    await this.retention.closeAbandonedRuns();
    // A run is one audited change, recorded as it starts (what it then archives and purges is in the run's report).
    const runId = await this.retention.dataSource.transaction(async (manager) => {
      const id = await this.retention.startRun(
        {
          trigger: options.trigger,
          scheduledFor: options.scheduledFor,
          dryRun: options.dryRun,
          purge: options.purge,
          modelId: options.modelId,
          retentionCount: options.retentionCount,
          storage: this.storage.kind,
          instance: this.instance,
        },
        manager,
      );
      if (id !== undefined) {
        await this.audit.record(manager, {
          action: 'retention.applied',
          resourceType: 'retention_run',
          resourceId: id,
          after: {
            trigger: options.trigger,
            dry_run: options.dryRun,
            purge: options.purge,
            model_id: options.modelId ?? null,
            retention_count: options.retentionCount ?? null,
            storage: this.storage.kind,
          },
        });
      }
      return id;
    });
    if (runId === undefined) return undefined;

    const execute = (signal?: AbortSignal) => this.execute(runId, options, signal);
    if (options.dryRun) return execute();
    const locked = await withTryAdvisoryLock(this.retention.dataSource, RETENTION_LOCK_KEY, 'retention', execute);
    if (locked.acquired) return locked.result;
    await this.finish(runId, options, 'skipped', new RunReport(), 'another retention run was in progress');
    if (options.trigger === 'manual') throw new RetentionRunInProgressError();
    return undefined;
  }

  /** `signal` aborts when the cluster-wide lock is lost: the run stops at its next batch. */
  private async execute(runId: number, options: ApplyOptions, signal?: AbortSignal): Promise<RetentionReportDto> {
    const startedAt = this.clock.now();
    const report = new RunReport();
    try {
      await this.archivePass(runId, options, report, startedAt, signal);
      if (options.purge) await this.purgePass(options, report, startedAt, signal);
    } catch (error) {
      // Storage failures are caught per version; anything here is unexpected (a database error, a
      // bug): its text stays in the server log, and the run record (which clients read) says where to look.
      this.logger.error({ err: error, run_id: runId }, `retention run ${runId} stopped on an unexpected error`);
      await this.finish(runId, options, 'failed', report, `stopped on an unexpected error; see the service log for run ${runId}`).catch(() => undefined);
      throw error;
    }
    const status = report.totals.failed > 0 ? 'partial' : 'succeeded';
    await this.finish(runId, options, status, report);
    const finishedAt = this.clock.now();
    this.logger.log({ run_id: runId, trigger: options.trigger, dry_run: options.dryRun, ...report.totals }, `retention run ${runId} ${status}`);
    return {
      run_id: runId,
      trigger: options.trigger,
      dry_run: options.dryRun,
      purge: options.purge,
      status,
      storage: this.storage.kind,
      retention_count: options.retentionCount ?? null,
      purge_after_days: this.config.purgeDays,
      started_at: startedAt.toISOString(),
      finished_at: finishedAt.toISOString(),
      duration_ms: finishedAt.getTime() - startedAt.getTime(),
      totals: report.totals,
      models: [...report.models.values()],
      models_truncated: report.truncated,
    };
  }

  /** Model batch by model batch: rank (SQL window function), classify, archive. */
  private async archivePass(runId: number, options: ApplyOptions, report: RunReport, now: Date, signal?: AbortSignal): Promise<void> {
    let afterModelId = 0;
    for (;;) {
      signal?.throwIfAborted();
      const { models, versions } = await this.retention.rankBatch({
        afterModelId,
        limit: this.config.batchSize,
        modelId: options.modelId,
        override: options.retentionCount,
        defaultCount: this.config.defaultRetentionCount,
      });
      if (models.length === 0) return;
      afterModelId = models[models.length - 1].id;
      report.totals.models += models.length;

      const byModel = new Map<number, RankedVersion[]>();
      for (const version of versions) {
        const list = byModel.get(version.model_id);
        if (list) list.push(version);
        else byModel.set(version.model_id, [version]);
      }
      const candidates: { version: RankedVersion; entry: ModelRetentionDto }[] = [];
      for (const model of models) {
        const live = byModel.get(model.id) ?? [];
        const { kept, archive } = classifyVersions(live, model.keep);
        report.totals.kept += kept.length;
        if (live.length <= model.keep && options.modelId === undefined) continue;
        const entry = report.entry(model);
        entry.kept.push(...kept.map(({ version, reason }): KeptVersionDto => ({ version_id: version.id, version: version.version, reason })));
        candidates.push(...archive.map((version) => ({ version, entry })));
      }
      await this.archiveCandidates(candidates, options.dryRun, report, now);
      await this.retention.heartbeat(runId);
    }
  }

  private async archiveCandidates(candidates: { version: RankedVersion; entry: ModelRetentionDto }[], dryRun: boolean, report: RunReport, now: Date): Promise<void> {
    // Decide each candidate's archive location; artifacts this storage cannot take are failures.
    const planned: { version: RankedVersion; entry: ModelRetentionDto; archiveUri: string | null }[] = [];
    for (const { version, entry } of candidates) {
      if (version.artifact_uri === null) {
        planned.push({ version, entry, archiveUri: null });
        continue;
      }
      const location = this.storage.archiveUriFor(version.artifact_uri);
      if ('unsupported' in location) report.fail(entry, { version_id: version.id, version: version.version, error: `cannot archive: ${location.unsupported}` });
      else planned.push({ version, entry, archiveUri: location.uri });
    }

    // Copy first: nothing is marked archived unless its copy succeeded.
    const copied = new Set<number>();
    if (!dryRun && this.storage.movesArtifacts) {
      const toCopy = planned.filter((p) => p.archiveUri !== null);
      await forEachLimited(toCopy, this.config.archive.copyConcurrency, async (p) => {
        try {
          await this.storage.copyToArchive(p.version.artifact_uri!, p.archiveUri!);
          copied.add(p.version.id);
        } catch (error) {
          this.logger.warn({ version_id: p.version.id, err: error }, 'could not copy an artifact to the archive');
          report.fail(p.entry, { version_id: p.version.id, version: p.version.version, error: storageFailureReason(error) });
        }
      });
    }
    const ready = dryRun || !this.storage.movesArtifacts ? planned : planned.filter((p) => p.archiveUri === null || copied.has(p.version.id));

    const archivedIds = dryRun
      ? new Set(ready.map((p) => p.version.id))
      : new Set((await this.retention.markArchived(ready.map((p) => ({ id: p.version.id, archive_uri: p.archiveUri })), now)).map((row) => row.id));

    for (const p of ready) {
      const { version, entry, archiveUri } = p;
      if (!archivedIds.has(version.id)) {
        // Became protected (or was archived by someone else) between ranking and locking.
        entry.kept.push({ version_id: version.id, version: version.version, reason: 'changed_during_run' });
        report.totals.kept++;
        if (copied.has(version.id)) await this.storage.delete(archiveUri!).catch(() => undefined);
        continue;
      }
      const archived: ArchivedVersionDto = {
        version_id: version.id,
        version: version.version,
        artifact_uri: version.artifact_uri,
        archive_uri: archiveUri,
        artifact: archiveUri === null ? 'none' : this.storage.movesArtifacts ? 'moved' : 'recorded',
      };
      // Only now, with the archive recorded, is the original deleted.
      if (!dryRun && copied.has(version.id)) {
        try {
          await this.storage.delete(version.artifact_uri!);
        } catch (error) {
          this.logger.warn({ version_id: version.id, err: error }, 'archived, but the original artifact could not be deleted');
          archived.warning = `archived, but the original could not be deleted: ${storageFailureReason(error)}`;
        }
      }
      entry.archived.push(archived);
      report.totals.archived++;
      report.totals.archived_bytes += version.size_bytes ?? 0;
    }
  }

  /**
   * Archived versions past the purge age: each batch is locked and re-checked first (a version pinned
   * meanwhile is left alone), then its archived objects are deleted, then its rows, in one transaction.
   */
  private async purgePass(options: ApplyOptions, report: RunReport, now: Date, signal?: AbortSignal): Promise<void> {
    const cutoff = purgeCutoff(now, this.config.purgeDays);
    let after: { archivedAt: Date; id: number } | undefined;
    const models = new Map<number, { id: number; name: string; keep: number }>();
    for (;;) {
      signal?.throwIfAborted();
      const candidates = await this.retention.purgeCandidates({ cutoff, after, limit: this.config.batchSize, modelId: options.modelId });
      if (candidates.length === 0) return;
      const last = candidates[candidates.length - 1];
      after = { archivedAt: last.archived_at, id: last.id };

      const unseen = [...new Set(candidates.map((c) => c.model_id))].filter((id) => !models.has(id));
      for (const model of await this.models.findNames(unseen)) {
        models.set(model.id, { ...model, keep: effectiveRetentionCount(options.retentionCount, model.retention_count, this.config.defaultRetentionCount) });
      }
      const entryOf = (modelId: number) => report.entry(models.get(modelId)!);

      const purged = options.dryRun
        ? candidates
        : await this.retention.purge(candidates.map((c) => c.id), cutoff, async (version) => {
            if (version.archive_uri === null || !this.storage.owns(version.archive_uri)) return true;
            try {
              await this.storage.delete(version.archive_uri);
              return true;
            } catch (error) {
              this.logger.warn({ version_id: version.id, err: error }, 'could not delete an archived artifact');
              report.fail(entryOf(version.model_id), { version_id: version.id, version: version.version, error: `not purged: ${storageFailureReason(error)}` });
              return false;
            }
          });
      for (const version of purged) {
        const purgedVersion: PurgedVersionDto = {
          version_id: version.id,
          version: version.version,
          archive_uri: version.archive_uri,
          archived_at: version.archived_at.toISOString(),
        };
        entryOf(version.model_id).purged.push(purgedVersion);
        report.totals.purged++;
      }
    }
  }

  /**
   * Brings an archived (not yet purged) version back: the artifact is copied back to its original
   * place, then the version is live again, then the archived copy is deleted. Under the retention lock,
   * so it cannot interleave with a run that is archiving or purging the same version.
   */
  async restore(versionId: number): Promise<VersionResponseDto> {
    const locked = await withTryAdvisoryLock(this.retention.dataSource, RETENTION_LOCK_KEY, 'restore', () => this.restoreLocked(versionId));
    if (!locked.acquired) throw new RetentionRunInProgressError();
    return locked.result;
  }

  private async restoreLocked(versionId: number): Promise<VersionResponseDto> {
    const current = await this.versions.findById(versionId);
    if (!current) throw new ResourceNotFoundError('version', versionId);
    if (current.archived_at === null) throw new ConflictError(`Version ${versionId} is not archived.`);

    const movesBack = this.storage.movesArtifacts && current.archive_uri !== null && current.artifact_uri !== null && this.storage.owns(current.archive_uri);
    if (movesBack) {
      try {
        await this.storage.restoreFromArchive(current.archive_uri!, current.artifact_uri!);
      } catch (error) {
        if (error instanceof ArchiveRestorePendingError) {
          throw new ApplicationError('conflict', 'The archived artifact is in cold storage; a restore has been requested. Retry once it is readable (typically hours).', undefined, {
            restore_pending: true,
          });
        }
        if (error instanceof ArchivedArtifactMissingError) throw new ConflictError('The archived artifact does not exist: the version cannot be restored.');
        this.logger.warn({ version_id: versionId, err: error }, 'could not restore an artifact from the archive');
        throw new ServiceUnavailableError(`The archive storage could not restore the artifact (${storageFailureReason(error)}). Retry later.`);
      }
    }
    const restored = await this.retention.dataSource.transaction(async (manager) => {
      const row = await this.retention.lockVersion(versionId, manager);
      if (!row) throw new ResourceNotFoundError('version', versionId);
      if (row.archived_at === null) throw new ConflictError(`Version ${versionId} is not archived.`);
      const before = VersionResponseDto.fromRow((await this.versions.findById(versionId, manager))!);
      await this.retention.markRestored(versionId, manager, this.clock.now());
      const after = (await this.versions.findById(versionId, manager))!;
      await this.audit.record(manager, { action: 'version.restored', resourceType: 'version', resourceId: versionId, before, after: VersionResponseDto.fromRow(after) });
      return after;
    });
    if (movesBack) {
      await this.storage.delete(current.archive_uri!).catch((error: unknown) =>
        this.logger.warn({ version_id: versionId, err: error }, 'restored, but the archived copy could not be deleted'),
      );
    }
    return VersionResponseDto.fromRow(restored);
  }
}
