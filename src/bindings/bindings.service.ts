import { Inject, Injectable } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service';
import type { ConfigType } from '@nestjs/config';
import { gatewayConfig } from '../config/gateway.config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { ModelRestriction } from '../common/auth/model-patterns';
import { ConflictError, ResourceNotFoundError } from '../common/errors/application.error';
import { assertIfMatch, etagOf } from '../common/http/etag';
import type { Page } from '../common/pagination/keyset';
import { assertImmutableUnchanged } from '../common/validation/immutable';
import type { Queryable } from '../database/sql';
import { RegistryChanges } from '../events/registry-changes';
import { BindingResponseDto } from './dto/binding-response.dto';
import type { BindingFieldsDto, CreateBindingDto } from './dto/create-binding.dto';
import type { ListBindingsQueryDto } from './dto/list-bindings-query.dto';
import type { ReportUsageDto } from './dto/report-usage.dto';
import type { UpdateBindingDto } from './dto/update-binding.dto';
import { ewmaUpdate } from './usage';
import { normalizeCapabilities } from './capabilities';
import { DEFAULT_CURRENCY } from './dto/pricing.dto';
import { parseSelector } from '../common/labels/selector';
import { BindingsRepository, type BindingFields, type BindingRow, type ParentVersion } from './bindings.repository';

function fieldsOf(dto: BindingFieldsDto & { provider?: string; provider_model_id?: string }): BindingFields {
  return {
    provider: dto.provider,
    provider_model_id: dto.provider_model_id,
    status: dto.status,
    config: dto.config,
    endpoint_url: dto.endpoint_url,
    avg_latency_ms: dto.avg_latency_ms,
    success_rate: dto.success_rate,
    labels: dto.labels,
    pricing: dto.pricing && { input_per_1m_tokens: dto.pricing.input_per_1m_tokens, output_per_1m_tokens: dto.pricing.output_per_1m_tokens, currency: dto.pricing.currency ?? DEFAULT_CURRENCY },
    context_window: dto.context_window,
    max_output_tokens: dto.max_output_tokens,
    capabilities: dto.capabilities && normalizeCapabilities(dto.capabilities),
  };
}

@Injectable()
export class BindingsService {
  constructor(
    private readonly bindings: BindingsRepository,
    private readonly audit: AuditLog,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(gatewayConfig.KEY) private readonly config: ConfigType<typeof gatewayConfig>,
    private readonly changes: RegistryChanges,
  ) {}

  create(dto: CreateBindingDto): Promise<BindingResponseDto> {
    return this.dataSource.transaction(async (manager) => {
      const version = await this.bindings.lockParentVersion(dto.version_id, manager);
      if (!version) throw new ResourceNotFoundError('version', dto.version_id);
      this.assertRoutable(version, dto.version_id, dto.status ?? 'active');
      const row = await this.bindings.insert({ ...fieldsOf(dto), version_id: dto.version_id, provider: dto.provider, provider_model_id: dto.provider_model_id }, manager);
      const created = BindingResponseDto.fromRow(row);
      await this.audit.record(manager, { action: 'binding.created', resourceType: 'binding', resourceId: row.id, after: created });
      return created;
    });
  }

  async get(id: number): Promise<BindingResponseDto> {
    return BindingResponseDto.fromRow(await this.require(id));
  }

  /** `restriction`: a model-restricted caller sees only its models' bindings. */
  list(query: ListBindingsQueryDto, restriction?: ModelRestriction): Promise<Page<BindingResponseDto>> {
    const { limit, page_token, sort, selector, ...filter } = query;
    return this.bindings.listPage(
      { ...filter, selector: selector === undefined ? undefined : parseSelector(selector), model_name_like: restriction?.like },
      sort,
      limit,
      page_token,
      BindingResponseDto.fromRow,
    );
  }

  async update(id: number, dto: UpdateBindingDto, ifMatch: string | undefined): Promise<BindingResponseDto> {
    const updated = await this.dataSource.transaction(async (manager) => {
      // Lock order everywhere: model, then version, then binding (deletes and retention take them so).
      const unlocked = await this.require(id, manager, false);
      const version = await this.bindings.lockParentVersion(unlocked.version_id, manager);
      const current = await this.require(id, manager);
      assertIfMatch(ifMatch, etagOf(BindingResponseDto.fromRow(current)));
      assertImmutableUnchanged({ version_id: dto.version_id }, { ...current });
      if (dto.status === 'active' && current.status !== 'active') this.assertRoutable(version!, current.version_id, 'active');
      const updated = BindingResponseDto.fromRow((await this.bindings.update(id, fieldsOf(dto), manager))!);
      await this.audit.record(manager, { action: 'binding.updated', resourceType: 'binding', resourceId: id, before: BindingResponseDto.fromRow(current), after: updated });
      return updated;
    });
    // Usage figures set by hand write no event: this replica's cached answers learn of them here.
    this.changes.announceLocal([updated.model_id]);
    return updated;
  }

  /** Folds one sample or a batch into avg_latency_ms and success_rate (EWMA, USAGE_EWMA_ALPHA). */
  async reportUsage(id: number, dto: ReportUsageDto): Promise<BindingResponseDto> {
    const samples = dto.samples ?? [{ latency_ms: dto.latency_ms, success: dto.success! }];
    const alpha = this.config.usageEwmaAlpha;
    const latencies = samples.flatMap((sample) => (sample.latency_ms === undefined ? [] : [sample.latency_ms]));
    const row = await this.bindings.applyUsage(
      id,
      ewmaUpdate(alpha, latencies),
      ewmaUpdate(alpha, samples.map((sample) => (sample.success ? 1 : 0)))!,
      samples.length,
    );
    if (!row) throw new ResourceNotFoundError('binding', id);
    // Usage writes no change event: this replica's cached answers learn of it here, others within RESOLVE_CACHE_TTL_MS.
    this.changes.announceLocal([row.model_id]);
    return BindingResponseDto.fromRow(row);
  }

  delete(id: number, ifMatch: string | undefined): Promise<void> {
    return this.dataSource.transaction(async (manager) => {
      const current = await this.require(id, manager);
      assertIfMatch(ifMatch, etagOf(BindingResponseDto.fromRow(current)));
      await this.bindings.delete(id, manager);
      await this.audit.record(manager, { action: 'binding.deleted', resourceType: 'binding', resourceId: id, before: BindingResponseDto.fromRow(current) });
    });
  }

  /** An archived version's artifact is gone from serving storage: nothing may route to it. */
  private assertRoutable(version: ParentVersion, versionId: number, status: string): void {
    if (status === 'active' && version.archived_at !== null) {
      throw new ConflictError(`Version ${versionId} is archived; restore it before giving it an active binding.`, 'version_id');
    }
  }

  private async require(id: number, manager?: Queryable, lock = manager !== undefined): Promise<BindingRow> {
    const row = await this.bindings.findById(id, manager, { lock });
    if (!row) throw new ResourceNotFoundError('binding', id);
    return row;
  }
}
