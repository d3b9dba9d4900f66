import { Injectable } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { artifactKey } from '../config/artifact-uri';
import type { ModelRestriction } from '../common/auth/model-patterns';
import { ConflictError, RequestValidationError, ResourceNotFoundError } from '../common/errors/application.error';
import { assertIfMatch, etagOf } from '../common/http/etag';
import { parseSelector } from '../common/labels/selector';
import type { Page } from '../common/pagination/keyset';
import { assertImmutableUnchanged } from '../common/validation/immutable';
import type { Queryable } from '../database/sql';
import type { CreateVersionDto, VersionFieldsDto } from './dto/create-version.dto';
import type { ListVersionsQueryDto } from './dto/list-versions-query.dto';
import type { UpdateVersionDto } from './dto/update-version.dto';
import { VersionResponseDto } from './dto/version-response.dto';
import { parseSemVer, semverSortKey } from '../common/semver';
import { VersionsRepository, type VersionChanges, type VersionFields, type VersionRow } from './versions.repository';

export interface RegisteredVersion {
  version: VersionResponseDto;
  /** False when an identical registration already existed (an idempotent replay). */
  created: boolean;
}

/** The client's fields, plus the artifact's normalised key whenever artifact_uri is written. */
function changesOf(dto: VersionFieldsDto): VersionChanges {
  const fields = fieldsOf(dto);
  if (dto.artifact_uri === undefined) return fields;
  return { ...fields, artifact_key: dto.artifact_uri === null ? null : artifactKey(dto.artifact_uri) };
}

/** archive_uri belongs to retention: a request may only echo the current value. */
function assertArchiveUriUnchanged(sent: string | null | undefined, current: string | null): void {
  if (sent === undefined || sent === current) return;
  throw new RequestValidationError([
    { field: 'archive_uri', message: `is set by the service when it archives the version and cannot be written (current value: ${JSON.stringify(current)})` },
  ]);
}

function fieldsOf(dto: VersionFieldsDto): VersionFields {
  return {
    region: dto.region,
    cost_per_1k: dto.cost_per_1k,
    eval_score: dto.eval_score,
    slo_ok: dto.slo_ok,
    pinned: dto.pinned,
    artifact_uri: dto.artifact_uri,
    size_bytes: dto.size_bytes,
    model_type: dto.model_type,
    framework: dto.framework,
    labels: dto.labels,
    source: dto.source,
    metadata: dto.metadata,
  };
}

@Injectable()
export class VersionsService {
  constructor(
    private readonly versions: VersionsRepository,
    private readonly audit: AuditLog,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /**
   * Idempotent registration, for CI pipelines that retry: the same (model_id, hash, version) again
   * returns the existing version; the same version with another hash, or the same hash as another
   * version, is a conflict naming the field.
   */
  async register(dto: CreateVersionDto): Promise<RegisteredVersion> {
    const semver = parseSemVer(dto.version)!;
    if (dto.archive_uri !== undefined && dto.archive_uri !== null) {
      // Only a replay of an existing registration may echo its archive_uri.
      const same = (await this.versions.findClashing(dto.model_id, dto.hash, dto.version)).find((row) => row.hash === dto.hash && row.version === dto.version);
      assertArchiveUriUnchanged(dto.archive_uri, same?.archive_uri ?? null);
      return { version: VersionResponseDto.fromRow(same!), created: false };
    }
    // A clashing row can vanish (deleted) between the insert and the lookup; then insert again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted = await this.dataSource.transaction(async (manager) => {
        const row = await this.versions.insertIfAbsent(
          { ...changesOf(dto), model_id: dto.model_id, hash: dto.hash, version: dto.version, version_sort_key: semverSortKey(semver) },
          manager,
        );
        if (!row) return undefined;
        const created = VersionResponseDto.fromRow(row);
        await this.audit.record(manager, { action: 'version.created', resourceType: 'version', resourceId: row.id, after: created });
        return created;
      });
      if (inserted) return { version: inserted, created: true };

      const clashing = await this.versions.findClashing(dto.model_id, dto.hash, dto.version);
      const same = clashing.find((row) => row.hash === dto.hash && row.version === dto.version);
      if (same) return { version: VersionResponseDto.fromRow(same), created: false };
      const sameVersion = clashing.find((row) => row.version === dto.version);
      if (sameVersion) {
        throw new ConflictError(
          `Model ${dto.model_id} already has version ${dto.version} (id ${sameVersion.id}) with a different hash.`,
          'version',
          { existing_version_id: sameVersion.id },
        );
      }
      const sameHash = clashing.find((row) => row.hash === dto.hash);
      if (sameHash) {
        throw new ConflictError(
          `This hash is already registered for model ${dto.model_id} as version ${sameHash.version} (id ${sameHash.id}).`,
          'hash',
          { existing_version_id: sameHash.id },
        );
      }
    }
    throw new ConflictError('The version is being changed concurrently. Retry the request.');
  }

  async get(id: number): Promise<VersionResponseDto> {
    return VersionResponseDto.fromRow(await this.require(id));
  }

  /** `restriction`: a model-restricted caller sees only its models' versions. */
  list(query: ListVersionsQueryDto, restriction?: ModelRestriction): Promise<Page<VersionResponseDto>> {
    const { limit, page_token, sort, selector, ...filter } = query;
    return this.versions.listPage(
      { ...filter, selector: selector === undefined ? undefined : parseSelector(selector), model_name_like: restriction?.like },
      sort,
      limit,
      page_token,
      VersionResponseDto.fromRow,
    );
  }

  /**
   * Partial update. Identity fields and archive_uri may only be echoed. An archived version's
   * artifact_uri is fixed (its archive copy is restored there); a live version's may change, under the
   * new artifact's lock, taken before the row lock as retention takes them.
   */
  update(id: number, dto: UpdateVersionDto, ifMatch: string | undefined): Promise<VersionResponseDto> {
    return this.dataSource.transaction(async (manager) => {
      const changes = changesOf(dto);
      if (changes.artifact_key) await this.versions.lockArtifact(changes.artifact_key, manager);
      const current = await this.require(id, manager);
      assertIfMatch(ifMatch, etagOf(VersionResponseDto.fromRow(current)));
      assertImmutableUnchanged({ model_id: dto.model_id, hash: dto.hash, version: dto.version }, { ...current });
      assertArchiveUriUnchanged(dto.archive_uri, current.archive_uri);
      if (current.archived_at !== null && dto.artifact_uri !== undefined && dto.artifact_uri !== current.artifact_uri) {
        throw new ConflictError(`Version ${id} is archived: its artifact_uri cannot change (restore the version first).`, 'artifact_uri');
      }
      const updated = VersionResponseDto.fromRow((await this.versions.update(id, changes, manager))!);
      await this.audit.record(manager, { action: 'version.updated', resourceType: 'version', resourceId: id, before: VersionResponseDto.fromRow(current), after: updated });
      return updated;
    });
  }

  /** Deletes the version and its bindings — unless it is aliased or a binding is active (traffic may be routed to it). */
  delete(id: number, ifMatch: string | undefined): Promise<void> {
    return this.dataSource.transaction(async (manager) => {
      const current = await this.require(id, manager);
      assertIfMatch(ifMatch, etagOf(VersionResponseDto.fromRow(current)));
      const aliases = await this.versions.lockAliases(id, manager);
      if (aliases.length > 0) {
        throw new ConflictError(`Version ${id} is aliased (${aliases.join(', ')}); move or remove the alias first.`, undefined, { aliases });
      }
      const active = await this.versions.lockBindingsAndListActive(id, manager);
      if (active.length > 0) {
        throw new ConflictError(
          `Version ${id} has ${active.length} active provider binding(s) (${active.join(', ')}); set them inactive or deprecated before deleting it.`,
          undefined,
          { active_binding_ids: active },
        );
      }
      await this.versions.delete(id, manager);
      await this.audit.record(manager, { action: 'version.deleted', resourceType: 'version', resourceId: id, before: VersionResponseDto.fromRow(current) });
    });
  }

  private async require(id: number, manager?: Queryable): Promise<VersionRow> {
    const row = await this.versions.findById(id, manager, { lock: manager !== undefined });
    if (!row) throw new ResourceNotFoundError('version', id);
    return row;
  }
}
