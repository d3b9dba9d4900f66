import { Injectable } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { ModelRestriction } from '../common/auth/model-patterns';
import { ConflictError, ResourceNotFoundError } from '../common/errors/application.error';
import { assertIfMatch, etagOf } from '../common/http/etag';
import { parseSelector } from '../common/labels/selector';
import type { Page } from '../common/pagination/keyset';
import { DEFAULT_SUBJECT, type CreateModelDto } from './dto/create-model.dto';
import type { ListModelsQueryDto } from './dto/list-models-query.dto';
import { ModelResponseDto } from './dto/model-response.dto';
import type { UpdateModelDto } from './dto/update-model.dto';
import { ModelsRepository, type ModelRow } from './models.repository';

@Injectable()
export class ModelsService {
  constructor(
    private readonly models: ModelsRepository,
    private readonly audit: AuditLog,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  create(dto: CreateModelDto): Promise<ModelResponseDto> {
    return this.dataSource.transaction(async (manager) => {
      const row = await this.models.insert(
        {
          name: dto.name,
          task: dto.task,
          subject: dto.subject ?? DEFAULT_SUBJECT,
          description: dto.description ?? null,
          retention_count: dto.retention_count ?? null,
          labels: dto.labels ?? {},
        },
        manager,
      );
      const created = ModelResponseDto.fromRow(row);
      await this.audit.record(manager, { action: 'model.created', resourceType: 'model', resourceId: row.id, after: created });
      return created;
    });
  }

  async get(id: number): Promise<ModelResponseDto> {
    return ModelResponseDto.fromRow(await this.require(id));
  }

  async getByName(name: string): Promise<ModelResponseDto> {
    const row = await this.models.findByName(name);
    if (!row) throw new ResourceNotFoundError('model', name, 'name');
    return ModelResponseDto.fromRow(row);
  }

  /** `restriction`: a model-restricted caller sees only its models. */
  list(query: ListModelsQueryDto, restriction?: ModelRestriction): Promise<Page<ModelResponseDto>> {
    const filter = {
      task: query.task,
      subject: query.subject,
      q: query.q,
      selector: query.selector === undefined ? undefined : parseSelector(query.selector),
      name_like: restriction?.like,
    };
    return this.models.listPage(filter, query.sort, query.limit, query.page_token, ModelResponseDto.fromRow);
  }

  /** Partial update under a row lock, so If-Match is checked against what is actually overwritten. */
  update(id: number, dto: UpdateModelDto, ifMatch: string | undefined): Promise<ModelResponseDto> {
    return this.dataSource.transaction(async (manager) => {
      const current = await this.require(id, manager);
      assertIfMatch(ifMatch, etagOf(ModelResponseDto.fromRow(current)));
      const updated = ModelResponseDto.fromRow(
        (await this.models.update(id, { name: dto.name, task: dto.task, subject: dto.subject, description: dto.description, retention_count: dto.retention_count, labels: dto.labels }, manager))!,
      );
      await this.audit.record(manager, { action: 'model.updated', resourceType: 'model', resourceId: id, before: ModelResponseDto.fromRow(current), after: updated });
      return updated;
    });
  }

  /**
   * Deletes the model with its versions and bindings in one transaction — unless a binding is active:
   * the gateway may be routing traffic to it.
   */
  delete(id: number, ifMatch: string | undefined): Promise<void> {
    return this.dataSource.transaction(async (manager) => {
      const current = await this.require(id, manager);
      assertIfMatch(ifMatch, etagOf(ModelResponseDto.fromRow(current)));
      const active = await this.models.lockSubtreeAndListActiveBindings(id, manager);
      if (active.length > 0) {
        throw new ConflictError(
          `Model ${id} has ${active.length} active provider binding(s) (${active.slice(0, 10).join(', ')}${active.length > 10 ? ', …' : ''}); set them inactive or deprecated before deleting it.`,
          undefined,
          { active_binding_ids: active },
        );
      }
      await this.models.delete(id, manager);
      await this.audit.record(manager, { action: 'model.deleted', resourceType: 'model', resourceId: id, before: ModelResponseDto.fromRow(current) });
    });
  }

  private async require(id: number, manager?: Parameters<ModelsRepository['findById']>[1]): Promise<ModelRow> {
    const row = await this.models.findById(id, manager, { lock: manager !== undefined });
    if (!row) throw new ResourceNotFoundError('model', id);
    return row;
  }
}
