import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
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
import { ArchiveOperations, RestoreRefusedError, type CopyPlan, type MarkItem, type OriginalOutcome } from './archive-operations';
import type { ArchivedVersionDto, FailedVersionDto, KeptVersionDto, ModelRetentionDto, PurgedVersionDto, RetentionReportDto } from './dto/retention-report.dto';
import { classifyVersions, effectiveRetentionCount, purgeCutoff } from './retention-policy';
import { JournalRepository, type JournalEntry } from './retention-journal.repository';
import { RetentionRepository, type RankedVersion, type RunCounts } from './retention.repository';
import type { RunStatus, RunTrigger } from './retention-run.entity';
import {
  ARCHIVE_STORAGE,
  ArchivedArtifactMissingError,
  ArchiveRestorePendingError,
  ArtifactExistsError,
  storageFailureReason,
  type ArchiveStorage,
  type ArtifactIdentity,
} from './storage/archive-storage';
import { UnsafePathError } from './storage/safe-fs';

/** pg_advisory_lock key: one real (non-dry) retention run at a time across replicas. */
export const RETENTION_LOCK_KEY = 7_218_342_961_553_120_002n;
/** Models detailed in a report (a catalog-wide run's totals always count every model); models with failures get room beyond it. */
const MAX_REPORT_MODELS = 100;
const MAX_RECORDED_FAILURES = 100;
/** archive_uri's column length: an archive location longer than this cannot be recorded. */
const MAX_ARCHIVE_URI_LENGTH = 2048;

/** Why an archived version's artifact was left where it is (report `reason`). */
export type LeftInPlaceReason = 'outside_artifact_roots' | 'unsafe_path' | 'shared_artifact';

/** One candidate on its way through a batch: what will be recorded, and its copy when it has one. */
interface BatchItem {
  version: RankedVersion;
  entry: ModelRetentionDto;
  archiveUri: string | null;
  artifact: 'moved' | 'copied' | 'recorded' | 'none';
  reason?: LeftInPlaceReason;
  plan?: CopyPlan;
  copy?: { entryId: number; key: string; identity: ArtifactIdentity };
  failed?: boolean;
}

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

@Injectable()
export class RetentionService implements OnApplicationBootstrap {
  private readonly logger = new Logger(RetentionService.name);
  private readonly instance = `${hostname()}:${process.pid}`;

  constructor(
    private readonly retention: RetentionRepository,
    private readonly models: ModelsRepository,
    private readonly versions: VersionsRepository,
    private readonly journal: JournalRepository,
    private readonly operations: ArchiveOperations,
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
   * Applies (or, with dryRun, previews) the policy. Every run holds its own lock on its own database
   * session while it lives (a run whose session is gone reads `abandoned`); real runs also hold the
   * cluster-wide retention lock, and a manual one that finds another run in progress gets a 409.
   * Returns undefined only for a scheduled slot that another replica already claimed.
   */
  async apply(options: ApplyOptions): Promise<RetentionReportDto | undefined> {
    if (options.modelId !== undefined && !(await this.models.findById(options.modelId))) {
      throw new ResourceNotFoundError('model', options.modelId);
    }
    await this.retention.closeAbandonedRuns();
    // A run is one audited change, recorded in the transaction that starts it (what it then archives
    // and purges is in the run's report).
    const run = await this.retention.startRun(
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
      (session, id) =>
        this.audit.recordInSession(session, {
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
        }),
    );
    if (!run) return undefined;
    try {
      if (!options.dryRun && !(await run.tryLock(RETENTION_LOCK_KEY))) {
        await this.finish(run.id, options, 'skipped', new RunReport(), 'another retention run was in progress');
        if (options.trigger === 'manual') throw new RetentionRunInProgressError();
        return undefined;
      }
      return await this.execute(run.id, options, run.signal);
    } finally {
      await run.close();
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    // A database that is not reachable yet must not stop the start: the next run recovers too.
    await this.recoverAtStartup().catch((error: unknown) => this.logger.error({ err: error }, 'start-up retention recovery failed; the next run retries it'));
  }

  /**
   * Start-up recovery: records runs abandoned by dead instances, then — unless another instance is
   * running retention — completes or reverts what a crash left half-done (see ArchiveOperations.recover).
   */
  async recoverAtStartup(): Promise<void> {
    const abandoned = await this.retention.closeAbandonedRuns();
    if (abandoned.length > 0) this.logger.warn({ run_ids: abandoned }, `${abandoned.length} retention run(s) abandoned by an instance that stopped`);
    const before = await this.journal.counts();
    const locked = await withTryAdvisoryLock(this.retention.dataSource, RETENTION_LOCK_KEY, 'retention-recovery', () => this.operations.recover());
    if (!locked.acquired) return;
    const pending = Object.values(before).reduce((sum, n) => sum + n, 0);
    if (pending > 0) this.logger.log({ journal: before, left: await this.journal.counts() }, 'retention journal recovered');
  }

  /** `signal` aborts when the run's session is lost: the run stops at its next batch. */
  private async execute(runId: number, options: ApplyOptions, signal?: AbortSignal): Promise<RetentionReportDto> {
    const startedAt = this.clock.now();
    const report = new RunReport();
    try {
      // A real run first finishes whatever an earlier, interrupted one left (it holds the retention lock).
      if (!options.dryRun) await this.operations.recover();
      const dryArchived = new Set<number>();
      await this.archivePass(runId, options, report, startedAt, dryArchived, signal);
      if (options.purge) await this.purgePass(options, report, startedAt, signal);
      if (!options.dryRun && this.storage.movesArtifacts) await this.operations.sweepKeptOriginals(this.storage);
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
  private async archivePass(runId: number, options: ApplyOptions, report: RunReport, now: Date, dryArchived: Set<number>, signal?: AbortSignal): Promise<void> {
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
      await this.archiveCandidates(runId, candidates, { dryRun: options.dryRun, report, now, dryArchived, signal });
      await this.retention.heartbeat(runId);
    }
  }

  /**
   * Archives one batch of candidates. Each artifact is classified first: none, recorded only (no
   * storage, outside ARTIFACT_ROOTS, unsafe path), or to be moved. Moves are journaled and copied,
   * then the versions are locked, re-checked and marked archived, then the originals no live version
   * uses are deleted (see ArchiveOperations). A dry run classifies and inspects without changing anything.
   */
  private async archiveCandidates(
    runId: number,
    candidates: { version: RankedVersion; entry: ModelRetentionDto }[],
    run: { dryRun: boolean; report: RunReport; now: Date; dryArchived: Set<number>; signal?: AbortSignal },
  ): Promise<void> {
    const { report } = run;
    const fail = (item: BatchItem, error: string) => {
      item.failed = true;
      report.fail(item.entry, { version_id: item.version.id, version: item.version.version, error });
    };
    const leaveInPlace = (item: BatchItem, reason: LeftInPlaceReason) => Object.assign(item, { archiveUri: null, artifact: 'recorded', reason, plan: undefined });

    const items: BatchItem[] = candidates.map(({ version, entry }): BatchItem => {
      const uri = version.artifact_uri;
      if (uri === null) return { version, entry, archiveUri: null, artifact: 'none' };
      if (!this.storage.movesArtifacts) return { version, entry, archiveUri: this.storage.recordedArchiveUri(uri), artifact: 'recorded' };
      const placement = this.storage.locate(uri);
      if (placement.where !== 'inside') {
        return { version, entry, archiveUri: null, artifact: 'recorded', reason: placement.where === 'outside' ? 'outside_artifact_roots' : 'unsafe_path' };
      }
      const archiveUri = this.storage.archiveUriFor(uri, version.id);
      return { version, entry, archiveUri, artifact: 'moved', plan: { versionId: version.id, artifactUri: uri, key: placement.key, archiveUri } };
    });
    const moving = () => items.filter((item) => item.plan && !item.failed);
    for (const item of moving()) if (item.archiveUri!.length > MAX_ARCHIVE_URI_LENGTH) fail(item, 'archive_location_too_long: the archive location would exceed 2048 characters');
    // A location another version references (the layout of earlier releases could share one) is never overwritten.
    const inUse = await this.journal.archiveUrisInUse(moving().map((item) => item.archiveUri!));
    for (const item of moving()) if (inUse.has(item.archiveUri!)) fail(item, 'archive_location_in_use: another version references this archive location');

    if (run.dryRun) {
      await this.previewMoves(items, moving(), run.dryArchived, fail, leaveInPlace);
      const wouldArchive = items.filter((item) => !item.failed).map((item) => item.version.id);
      this.reportArchived(items, new Set(wouldArchive), new Map(), report);
      for (const id of wouldArchive) run.dryArchived.add(id);
      return;
    }
    if (this.storage.movesArtifacts) {
      const copies = await this.operations.copyToArchive(this.storage, runId, moving().map((item) => item.plan!), run.signal);
      for (const item of moving()) {
        const result = copies.get(item.version.id)!;
        if (result.kind === 'copied') item.copy = { entryId: result.entryId, key: item.plan!.key, identity: result.identity };
        else if (result.kind === 'unsafe') leaveInPlace(item, 'unsafe_path');
        else fail(item, storageFailureReason(result.error));
      }
    }
    await this.markAndReport(items, run.now, report, run.signal);
  }

  /** Dry run: the path must be safe and the artifact present; an artifact a live version outside this run still uses would be copied, not moved. */
  private async previewMoves(
    items: BatchItem[],
    moving: BatchItem[],
    dryArchived: Set<number>,
    fail: (item: BatchItem, error: string) => void,
    leaveInPlace: (item: BatchItem, reason: LeftInPlaceReason) => void,
  ): Promise<void> {
    if (!this.storage.movesArtifacts) return;
    const problems = await this.storage.inspect([...new Set(moving.map((item) => item.plan!.artifactUri))], this.config.archive.copyConcurrency);
    for (const item of moving) {
      const problem = problems.get(item.plan!.artifactUri);
      if (problem instanceof UnsafePathError) leaveInPlace(item, 'unsafe_path');
      else if (problem !== undefined) fail(item, storageFailureReason(problem));
    }
    const inBatch = new Set(items.map((item) => item.version.id));
    const still = items.filter((item) => item.plan && !item.failed);
    const users = await this.retention.liveUsers([...new Set(still.map((item) => item.plan!.key))]);
    for (const item of still) {
      const others = (users.get(item.plan!.key) ?? []).filter((id) => !inBatch.has(id) && !dryArchived.has(id));
      if (others.length > 0) Object.assign(item, { artifact: 'copied', reason: 'shared_artifact' });
    }
  }

  /** Marks the batch archived, deletes the originals nobody else uses, and reports each version. */
  private async markAndReport(items: BatchItem[], now: Date, report: RunReport, signal?: AbortSignal): Promise<void> {
    const mover = this.storage.movesArtifacts ? this.storage : undefined;
    const marking = items.filter((item) => !item.failed);
    const { archived } = await this.operations.markArchived(
      marking.map((item): MarkItem => ({ id: item.version.id, archiveUri: item.archiveUri, copy: item.copy })),
      now,
      signal,
    );
    const originals: JournalEntry[] = marking
      .filter((item) => item.copy && archived.has(item.version.id))
      .map((item) => ({
        id: item.copy!.entryId,
        state: 'delete_original',
        version_id: item.version.id,
        run_id: null,
        artifact_uri: item.version.artifact_uri,
        artifact_key: item.copy!.key,
        archive_uri: item.archiveUri,
        temp_name: null,
        source_identity: item.copy!.identity,
      }));
    const outcomes = mover && originals.length > 0 ? await this.operations.deleteOriginals(mover, originals) : new Map<number, OriginalOutcome>();
    if (mover) await this.operations.releaseArchives();
    this.reportArchived(marking, archived, new Map(marking.filter((item) => item.copy).map((item) => [item.version.id, outcomes.get(item.copy!.entryId)])), report);
  }

  private reportArchived(items: BatchItem[], archived: Set<number>, outcomes: Map<number, OriginalOutcome | undefined>, report: RunReport): void {
    for (const item of items) {
      if (item.failed) continue;
      const { version, entry } = item;
      if (!archived.has(version.id)) {
        // Became protected (or was archived by someone else) between ranking and locking.
        entry.kept.push({ version_id: version.id, version: version.version, reason: 'changed_during_run' });
        report.totals.kept++;
        continue;
      }
      const dto: ArchivedVersionDto = { version_id: version.id, version: version.version, artifact_uri: version.artifact_uri, archive_uri: item.archiveUri, artifact: item.artifact };
      const outcome = outcomes.get(version.id);
      if (outcome === 'shared') Object.assign(item, { artifact: 'copied', reason: 'shared_artifact' });
      dto.artifact = item.artifact;
      if (item.reason) dto.reason = item.reason;
      if (outcome === 'changed') dto.warning = 'archived; the original was replaced or moved after it was copied, so it was left alone';
      if (outcome === 'error') dto.warning = 'archived; the original could not be deleted yet (the next run retries)';
      entry.archived.push(dto);
      report.totals.archived++;
      report.totals.archived_bytes += version.size_bytes ?? 0;
    }
  }

  /**
   * Archived versions past the purge age: each batch is locked and re-checked (a version pinned
   * meanwhile is left alone) and its rows deleted in one transaction, which also journals the release
   * of their archive copies; the copies are deleted right after (a crash in between is finished by the
   * next run), each unless another version still references it.
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
      const purged = options.dryRun ? candidates : await this.retention.purge(candidates.map((c) => c.id), cutoff);
      if (!options.dryRun) await this.operations.releaseArchives();
      for (const version of purged) {
        const purgedVersion: PurgedVersionDto = {
          version_id: version.id,
          version: version.version,
          archive_uri: version.archive_uri,
          archived_at: version.archived_at.toISOString(),
        };
        report.entry(models.get(version.model_id)!).purged.push(purgedVersion);
        report.totals.purged++;
      }
    }
  }

  /**
   * Brings an archived (not yet purged) version back (see ArchiveOperations.restore): the archive copy
   * goes back to the version's own artifact_uri — only inside ARTIFACT_ROOTS, and never over anything
   * that exists there (409 artifact-exists) — then the version is live again and the copy is released.
   * Under the retention lock, so it cannot interleave with a run archiving or purging.
   */
  async restore(versionId: number): Promise<VersionResponseDto> {
    const locked = await withTryAdvisoryLock(this.retention.dataSource, RETENTION_LOCK_KEY, 'restore', () => this.restoreLocked(versionId));
    if (!locked.acquired) throw new RetentionRunInProgressError();
    return locked.result;
  }

  private async restoreLocked(versionId: number): Promise<VersionResponseDto> {
    let outcome: Awaited<ReturnType<ArchiveOperations['restore']>>;
    try {
      outcome = await this.operations.restore(versionId);
    } catch (error) {
      throw this.restoreProblem(versionId, error);
    }
    if (outcome === 'missing') throw new ResourceNotFoundError('version', versionId);
    if (outcome === 'not_archived') throw new ConflictError(`Version ${versionId} is not archived.`);
    return VersionResponseDto.fromRow((await this.versions.findById(versionId))!);
  }

  private restoreProblem(versionId: number, error: unknown): Error {
    if (error instanceof ArtifactExistsError) {
      return new ApplicationError(
        'artifact-exists',
        `Something already exists at the artifact_uri of version ${versionId}; restore never overwrites it. Nothing was changed.`,
        undefined,
        { version_id: versionId },
      );
    }
    if (error instanceof RestoreRefusedError) return new ConflictError(`${error.detail} Nothing was changed.`, undefined, { reason: error.reason });
    if (error instanceof UnsafePathError) return new ConflictError('The artifact location holds a symbolic link or changed while restoring. Nothing was changed.', undefined, { reason: 'unsafe_path' });
    if (error instanceof ArchiveRestorePendingError) {
      return new ApplicationError('conflict', 'The archived artifact is in cold storage; a restore has been requested. Retry once it is readable (typically hours).', undefined, {
        restore_pending: true,
      });
    }
    if (error instanceof ArchivedArtifactMissingError) return new ConflictError('The archived artifact does not exist: the version cannot be restored.');
    this.logger.warn({ version_id: versionId, err: error }, 'could not restore an artifact from the archive');
    return new ServiceUnavailableError(`The archive storage could not restore the artifact (${storageFailureReason(error)}). Retry later.`);
  }
}
