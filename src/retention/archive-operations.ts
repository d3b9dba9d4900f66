import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { AuditLog } from '../audit/audit-log.service';
import { artifactKey } from '../config/artifact-uri';
import { Clock } from '../common/clock';
import { forEachLimited } from '../common/concurrency';
import { retentionConfig } from '../config/retention.config';
import { VersionResponseDto } from '../versions/dto/version-response.dto';
import { VersionsRepository } from '../versions/versions.repository';
import { JournalRepository, type JournalEntry } from './retention-journal.repository';
import { RetentionRepository } from './retention.repository';
import { ARCHIVE_STORAGE, ArtifactExistsError, sameArtifact, type ArchiveStorage, type ArtifactIdentity, type MovingArchive } from './storage/archive-storage';
import { UnsafePathError } from './storage/safe-fs';

/**
 * Items per transaction that takes artifact locks: each distinct artifact is one advisory lock, held to
 * the commit, and PostgreSQL's lock table (max_locks_per_transaction × connections) is shared.
 */
const LOCK_CHUNK = 500;
const PAGE = 500;

export interface CopyPlan {
  versionId: number;
  artifactUri: string;
  key: string;
  archiveUri: string;
}

export type CopyResult = { kind: 'copied'; entryId: number; identity: ArtifactIdentity } | { kind: 'unsafe'; detail: string } | { kind: 'failed'; error: unknown };

export interface MarkItem {
  id: number;
  archiveUri: string | null;
  /** Set when the artifact was copied to archiveUri (the journal entry and what the original was). */
  copy?: { entryId: number; key: string; identity: ArtifactIdentity };
}

/** What happened to an archived version's original: deleted (or already gone), kept for live versions sharing it, or left because it changed. */
export type OriginalOutcome = 'deleted' | 'gone' | 'shared' | 'changed' | 'error';

export type RestoreOutcome = 'row_only' | 'in_place' | 'placed';

const tempName = () => `.mr-${randomBytes(8).toString('hex')}.partial`;

/** Splits items so that each part holds at most `limit` copies (each takes an artifact lock); items without a copy ride along. */
function chunksOfCopies(items: MarkItem[], limit: number): MarkItem[][] {
  const chunks: MarkItem[][] = [];
  let current: MarkItem[] = [];
  let copies = 0;
  for (const item of items) {
    if (item.copy && copies === limit) {
      chunks.push(current);
      current = [];
      copies = 0;
    }
    current.push(item);
    if (item.copy) copies++;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * The crash-safe steps that move artifacts, each recorded in the retention journal before it is
 * taken: copy to the archive (copying) → mark the version archived (delete_original, or keep_original
 * while live versions share the artifact) → delete the original; restore (restoring); release of an
 * archive copy nobody references (release). recover() completes or reverts whatever a crash left.
 * Callers hold the cluster-wide retention lock, so one instance at a time moves files.
 */
@Injectable()
export class ArchiveOperations {
  private readonly logger = new Logger(ArchiveOperations.name);

  constructor(
    private readonly retention: RetentionRepository,
    private readonly journal: JournalRepository,
    private readonly versions: VersionsRepository,
    private readonly audit: AuditLog,
    @Inject(ARCHIVE_STORAGE) private readonly storage: ArchiveStorage,
    @Inject(retentionConfig.KEY) private readonly config: ConfigType<typeof retentionConfig>,
    private readonly clock: Clock,
  ) {}

  private get concurrency(): number {
    return this.config.archive.copyConcurrency;
  }

  /** Journals, then copies, each planned artifact to its archive location. A failed copy leaves nothing behind. */
  async copyToArchive(mover: MovingArchive, runId: number, plans: CopyPlan[], signal?: AbortSignal): Promise<Map<number, CopyResult>> {
    const results = new Map<number, CopyResult>();
    const temps = new Map(plans.map((plan) => [plan.versionId, tempName()]));
    const entries = await this.journal.startCopies(
      runId,
      plans.map((plan) => ({ version_id: plan.versionId, artifact_uri: plan.artifactUri, artifact_key: plan.key, archive_uri: plan.archiveUri, temp_name: temps.get(plan.versionId)! })),
    );
    const released: number[] = [];
    try {
      await this.copyEach(mover, plans, entries, temps, results, released, signal);
    } finally {
      // The copies must survive a power cut before any version is marked archived (and its original deleted).
      await mover.flush(plans.filter((plan) => results.get(plan.versionId)?.kind === 'copied').map((plan) => plan.archiveUri));
    }
    // Whatever was started for a failed copy is released (deleted unless referenced).
    await this.journal.transition(released.map((id) => ({ id, state: 'release' as const })));
    signal?.throwIfAborted();
    return results;
  }

  private async copyEach(
    mover: MovingArchive,
    plans: CopyPlan[],
    entries: Map<number, number>,
    temps: Map<number, string>,
    results: Map<number, CopyResult>,
    released: number[],
    signal?: AbortSignal,
  ): Promise<void> {
    await forEachLimited(plans, this.concurrency, async (plan) => {
      const entryId = entries.get(plan.versionId)!;
      if (signal?.aborted) return;
      try {
        const identity = await mover.copyToArchive(plan.artifactUri, plan.archiveUri, temps.get(plan.versionId)!);
        results.set(plan.versionId, { kind: 'copied', entryId, identity });
      } catch (error) {
        if (!(error instanceof UnsafePathError)) this.logger.warn({ version_id: plan.versionId, err: error }, 'could not copy an artifact to the archive');
        await mover.removeTemp(plan.archiveUri, temps.get(plan.versionId)!).catch((cleanup: unknown) => this.logger.warn({ err: cleanup }, 'could not remove a temporary file'));
        released.push(entryId);
        results.set(plan.versionId, error instanceof UnsafePathError ? { kind: 'unsafe', detail: error.detail } : { kind: 'failed', error });
      }
    });
  }

  /**
   * Marks versions archived, in transactions of LOCK_CHUNK items. Under the locks of the copied
   * artifacts (the lock registration takes), each copy's journal entry moves on: delete_original
   * when no live version of any model still uses the artifact, keep_original when one does, release
   * when the version was not archived after all (it became protected meanwhile). Returns the archived
   * ids and those whose original is kept.
   */
  async markArchived(items: MarkItem[], now: Date, signal?: AbortSignal): Promise<{ archived: Set<number>; kept: Set<number> }> {
    const archived = new Set<number>();
    const kept = new Set<number>();
    for (const chunk of chunksOfCopies(items, LOCK_CHUNK)) {
      signal?.throwIfAborted();
      await this.retention.dataSource.transaction(async (manager) => {
        const copies = chunk.filter((item) => item.copy);
        const keys = [...new Set(copies.map((item) => item.copy!.key))];
        await this.retention.lockArtifacts(keys, manager);
        // A recovery elsewhere may have reverted an entry (this instance lost its lock): those are not archived.
        const copying = new Set((await this.journal.lockInState(copies.map((item) => item.copy!.entryId), ['copying'], manager)).map((entry) => Number(entry.id)));
        const eligible = chunk.filter((item) => !item.copy || copying.has(item.copy.entryId));
        const marked = await this.retention.markArchived(eligible.map((item) => ({ id: item.id, archive_uri: item.archiveUri })), now, manager);
        const users = await this.retention.liveUsers(keys, manager);
        const transitions = eligible
          .filter((item) => item.copy)
          .map((item) => {
            if (!marked.has(item.id)) return { id: item.copy!.entryId, state: 'release' as const };
            const shared = (users.get(item.copy!.key)?.length ?? 0) > 0;
            return { id: item.copy!.entryId, state: shared ? ('keep_original' as const) : ('delete_original' as const), identity: item.copy!.identity };
          });
        await this.journal.transition(transitions, manager);
        for (const id of marked) archived.add(id);
        for (const item of eligible) if (item.copy && marked.has(item.id) && (users.get(item.copy.key)?.length ?? 0) > 0) kept.add(item.id);
      });
    }
    return { archived, kept };
  }

  /**
   * Deletes the originals of archived versions (journal entries delete_original / keep_original), each
   * under its artifact's lock and only if no live version uses it now and it is still the file (or
   * object) that was archived. Returns what happened per entry; entries done are removed.
   */
  async deleteOriginals(mover: MovingArchive, entries: JournalEntry[]): Promise<Map<number, OriginalOutcome>> {
    const outcomes = new Map<number, OriginalOutcome>();
    for (let start = 0; start < entries.length; start += LOCK_CHUNK) {
      const chunk = entries.slice(start, start + LOCK_CHUNK);
      await this.retention.dataSource.transaction(async (manager) => {
        const keys = [...new Set(chunk.map((entry) => entry.artifact_key).filter((key): key is string => key !== null))];
        await this.retention.lockArtifacts(keys, manager);
        const current = await this.journal.lockInState(chunk.map((entry) => entry.id), ['delete_original', 'keep_original'], manager);
        const users = await this.retention.liveUsers(keys, manager);
        const done: number[] = [];
        const nowKept: number[] = [];
        await forEachLimited(current, this.concurrency, async (entry) => {
          const id = Number(entry.id);
          if (entry.artifact_key !== null && (users.get(entry.artifact_key)?.length ?? 0) > 0) {
            outcomes.set(id, 'shared');
            if (entry.state === 'delete_original') nowKept.push(id);
            return;
          }
          let outcome: OriginalOutcome;
          try {
            outcome = entry.source_identity && entry.artifact_uri ? await mover.deleteOriginal(entry.artifact_uri, entry.source_identity) : 'changed';
          } catch (error) {
            outcome = error instanceof UnsafePathError ? 'changed' : 'error';
            if (outcome === 'error') this.logger.warn({ version_id: entry.version_id, err: error }, 'archived, but the original could not be deleted (retried by the next run)');
          }
          if (outcome === 'changed') this.logger.warn({ version_id: entry.version_id }, 'archived; the original was replaced or moved meanwhile and was left alone');
          outcomes.set(id, outcome);
          if (outcome !== 'error') done.push(id);
        });
        await mover.flush(current.filter((entry) => outcomes.get(Number(entry.id)) === 'deleted').map((entry) => entry.artifact_uri!));
        await this.journal.transition(nowKept.map((id) => ({ id, state: 'keep_original' as const })), manager);
        await this.journal.remove(done, manager);
      });
    }
    return outcomes;
  }

  /** Deletes archive copies that no version references any more (journal: release). */
  async releaseArchives(): Promise<void> {
    const mover = this.storage.movesArtifacts ? this.storage : undefined;
    for (let after = 0; ; ) {
      const entries = await this.journal.page('release', after, PAGE);
      if (entries.length === 0) return;
      after = Number(entries[entries.length - 1].id);
      const inUse = await this.journal.archiveUrisInUse([...new Set(entries.map((e) => e.archive_uri).filter((uri): uri is string => uri !== null))]);
      const done: number[] = [];
      await forEachLimited(entries, this.concurrency, async (entry) => {
        const uri = entry.archive_uri;
        // Not ours (another storage, or a location set by hand long ago), or still used: nothing to delete.
        if (uri === null || !mover?.owns(uri) || inUse.has(uri)) {
          done.push(Number(entry.id));
          return;
        }
        try {
          if (entry.temp_name) await mover.removeTemp(uri, entry.temp_name);
          await mover.deleteArchived(uri);
          done.push(Number(entry.id));
        } catch (error) {
          this.logger.warn({ version_id: entry.version_id, err: error }, 'could not delete an archive copy (retried by the next run)');
        }
      });
      const finished = new Set(done);
      if (mover) await mover.flush(entries.filter((entry) => finished.has(Number(entry.id)) && entry.archive_uri && mover.owns(entry.archive_uri)).map((entry) => entry.archive_uri!));
      await this.journal.remove(done);
    }
  }

  /**
   * Completes or reverts whatever a crash left half-done, and finishes deferred work: copies in
   * progress are reverted (their temporary files and copies removed), restores whose copy is in place
   * are completed (others reverted), originals of archived versions are deleted, originals kept for
   * versions that are no longer live are deleted, and unreferenced archive copies are deleted.
   * Also computes the artifact keys of versions written without one.
   */
  async recover(): Promise<void> {
    await this.backfillArtifactKeys();
    if (!this.storage.movesArtifacts) return;
    const mover = this.storage;
    for (let after = 0; ; ) {
      const copying = await this.journal.page('copying', after, PAGE);
      if (copying.length === 0) break;
      after = Number(copying[copying.length - 1].id);
      const reverted: number[] = [];
      await forEachLimited(copying, this.concurrency, async (entry) => {
        try {
          if (entry.temp_name && entry.archive_uri) await mover.removeTemp(entry.archive_uri, entry.temp_name);
          reverted.push(Number(entry.id));
        } catch (error) {
          this.logger.warn({ version_id: entry.version_id, err: error }, 'could not remove a temporary file (retried by the next run)');
        }
      });
      await this.journal.transition(reverted.map((id) => ({ id, state: 'release' as const })));
    }
    for (let after = 0; ; ) {
      const restoring = await this.journal.page('restoring', after, PAGE);
      if (restoring.length === 0) break;
      after = Number(restoring[restoring.length - 1].id);
      for (const entry of restoring) await this.resolveRestore(mover, entry).catch((error: unknown) => this.logger.warn({ version_id: entry.version_id, err: error }, 'could not resolve an interrupted restore (retried by the next run)'));
    }
    for (let after = 0; ; ) {
      const pending = await this.journal.page('delete_original', after, PAGE);
      if (pending.length === 0) break;
      after = Number(pending[pending.length - 1].id);
      await this.deleteOriginals(mover, pending);
    }
    await this.sweepKeptOriginals(mover);
    await this.releaseArchives();
  }

  /** Deletes originals that were kept for live versions sharing them, once none does. */
  async sweepKeptOriginals(mover: MovingArchive): Promise<void> {
    for (let after = 0; ; ) {
      const unshared = await this.journal.unsharedKeptOriginals(after, PAGE);
      if (unshared.length === 0) return;
      after = Number(unshared[unshared.length - 1].id);
      await this.deleteOriginals(mover, unshared);
    }
  }

  /**
   * Restores an archived version (under the retention lock). Nothing is ever written where something
   * exists: if the artifact's location holds the archived bytes already (the original kept for a
   * version sharing it, or a hard link of the archive copy), the version is restored in place;
   * anything else there is an ArtifactExistsError. Otherwise the archive copy is put back (journaled),
   * the version is made live, and the copy is released unless another version references it.
   */
  async restore(versionId: number): Promise<RestoreOutcome | 'not_archived' | 'missing'> {
    const version = await this.retention.archivedVersion(versionId);
    if (!version) return 'missing';
    if (version.archived_at === null) return 'not_archived';
    const mover = this.storage.movesArtifacts ? this.storage : undefined;
    if (!mover || version.archive_uri === null || version.artifact_uri === null || !mover.owns(version.archive_uri)) {
      // Archived in the database only (outside the roots, unsafe, no storage): nothing to move back.
      const restored = await this.finishRestore(versionId, version.archive_uri);
      await this.releaseArchives();
      return restored ? 'row_only' : 'not_archived';
    }
    const artifactUri = version.artifact_uri;
    const archiveUri = version.archive_uri;
    const placement = mover.locate(artifactUri);
    if (placement.where === 'outside') throw new RestoreRefusedError('outside_artifact_roots', 'The artifact location is outside ARTIFACT_ROOTS: the service does not write there.');
    if (placement.where === 'unsafe') throw new RestoreRefusedError('unsafe_path', `The artifact location is unsafe (${placement.detail}).`);
    if (archiveUri !== mover.archiveUriFor(artifactUri, versionId) && archiveUri !== mover.legacyArchiveUriFor(artifactUri)) {
      throw new RestoreRefusedError('foreign_archive_uri', "archive_uri is not where this service archived this version's artifact: nothing was moved.");
    }

    const present = await mover.identityAt(artifactUri);
    if (present) {
      const originals = await this.journal.originalsOf(versionId);
      const archivedCopy = await mover.identityAt(archiveUri);
      if (!originals.some((entry) => sameArtifact(entry.source_identity, present)) && !sameArtifact(archivedCopy, present)) throw new ArtifactExistsError(artifactUri);
      const restored = await this.finishRestore(versionId, archiveUri);
      await this.releaseArchives();
      return restored ? 'in_place' : 'not_archived';
    }

    const temp = tempName();
    const entryId = await this.journal.startRestore({ version_id: versionId, artifact_uri: artifactUri, artifact_key: placement.key, archive_uri: archiveUri, temp_name: temp });
    try {
      await mover.placeFromArchive(archiveUri, artifactUri, temp);
    } catch (error) {
      await mover.removeTemp(artifactUri, temp).catch(() => undefined);
      await this.journal.remove([entryId]);
      throw error;
    }
    const restored = await this.finishRestore(versionId, archiveUri);
    await mover.removeTemp(artifactUri, temp);
    await this.journal.remove([entryId]);
    await this.releaseArchives();
    return restored ? 'placed' : 'not_archived';
  }

  /**
   * Makes the version live again, forgetting its original's journal entries; the release of its
   * archive copy is journaled by a trigger (the caller releases). False if it was not archived any more.
   */
  private async finishRestore(versionId: number, archiveUri: string | null): Promise<boolean> {
    return this.retention.dataSource.transaction(async (manager) => {
      const row = await this.retention.archivedVersion(versionId, manager);
      if (!row || row.archived_at === null || row.archive_uri !== archiveUri) return false;
      const before = VersionResponseDto.fromRow((await this.versions.findById(versionId, manager))!);
      await this.retention.markRestored(versionId, manager, this.clock.now());
      await this.journal.forgetOriginals(versionId, manager);
      const after = VersionResponseDto.fromRow((await this.versions.findById(versionId, manager))!);
      await this.audit.record(manager, { action: 'version.restored', resourceType: 'version', resourceId: versionId, before, after });
      return true;
    });
  }

  /** An interrupted restore: completed if the archive copy is at the artifact's location, else reverted. */
  private async resolveRestore(mover: MovingArchive, entry: JournalEntry): Promise<void> {
    const version = await this.retention.archivedVersion(entry.version_id);
    if (version && version.archived_at !== null && version.archive_uri === entry.archive_uri && entry.artifact_uri && entry.archive_uri) {
      const present = await mover.identityAt(entry.artifact_uri).catch(() => undefined);
      const copy = await mover.identityAt(entry.archive_uri).catch(() => undefined);
      const temp = entry.temp_name ? await mover.tempIdentity(entry.artifact_uri, entry.temp_name).catch(() => undefined) : undefined;
      if (present && (sameArtifact(present, copy) || sameArtifact(present, temp))) await this.finishRestore(entry.version_id, entry.archive_uri);
    }
    // The archive copy's release (if the restore completed) is processed by recover()'s releaseArchives.
    if (entry.temp_name && entry.artifact_uri) await mover.removeTemp(entry.artifact_uri, entry.temp_name).catch((error: unknown) => {
      if (!(error instanceof UnsafePathError)) throw error;
    });
    await this.journal.remove([Number(entry.id)]);
  }

  /** Computes the normalised key of versions that have an artifact but no key (written before keys existed, or by hand). */
  private async backfillArtifactKeys(): Promise<void> {
    for (;;) {
      const rows = await this.retention.unkeyedVersions(LOCK_CHUNK);
      if (rows.length === 0) return;
      await this.retention.setArtifactKeys(rows.map((row) => ({ id: Number(row.id), key: artifactKey(row.artifact_uri) })));
      if (rows.length < LOCK_CHUNK) return;
    }
  }
}

/** Restore refused before touching anything: `reason` says why (outside_artifact_roots, unsafe_path, foreign_archive_uri). */
export class RestoreRefusedError extends Error {
  constructor(
    readonly reason: 'outside_artifact_roots' | 'unsafe_path' | 'foreign_archive_uri',
    readonly detail: string,
  ) {
    super(detail);
  }
}
