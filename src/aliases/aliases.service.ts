import { Injectable } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service';
import { ApplicationError, ConflictError, RequestValidationError, ResourceNotFoundError } from '../common/errors/application.error';
import { assertIfMatch, etagOf } from '../common/http/etag';
import { AliasResponseDto } from './dto/alias.dto';
import { AliasesRepository } from './aliases.repository';

const aliasNotFound = (modelId: number, alias: string) => new ApplicationError('not-found', `Model ${modelId} has no alias ${JSON.stringify(alias)}.`);

@Injectable()
export class AliasesService {
  constructor(
    private readonly aliases: AliasesRepository,
    private readonly audit: AuditLog,
  ) {}

  /**
   * Points the alias at a live version of the model, creating it or moving it atomically. With
   * `ifMatch`, only if the alias exists and still has that ETag (checked under its row lock, so a
   * concurrent move either lands before the check and fails it, or waits for this one).
   */
  set(modelId: number, alias: string, versionId: number, ifMatch?: string): Promise<{ alias: AliasResponseDto; created: boolean }> {
    return this.aliases.dataSource.transaction(async (manager) => {
      if (!(await this.aliases.modelExists(modelId, manager))) throw new ResourceNotFoundError('model', modelId);
      const target = await this.aliases.lockTarget(versionId, manager);
      if (!target) throw new ResourceNotFoundError('version', versionId);
      if (target.model_id !== modelId) {
        throw new RequestValidationError([{ field: 'version_id', message: `version ${versionId} belongs to model ${target.model_id}, not model ${modelId}` }]);
      }
      if (target.archived_at !== null) throw new ConflictError(`Version ${versionId} is archived; restore it before pointing an alias at it.`, 'version_id');
      const previous = await this.aliases.find(modelId, alias, manager, { lock: true });
      if (ifMatch !== undefined) {
        if (!previous) throw aliasNotFound(modelId, alias);
        assertIfMatch(ifMatch, etagOf(AliasResponseDto.fromRow(previous)));
      }
      const { row, created } = await this.aliases.upsert(modelId, alias, versionId, manager);
      const result = AliasResponseDto.fromRow(row);
      await this.audit.record(manager, {
        action: 'alias.set',
        resourceType: 'alias',
        resourceId: `${modelId}/${alias}`,
        before: previous && AliasResponseDto.fromRow(previous),
        after: result,
      });
      return { alias: result, created };
    });
  }

  async get(modelId: number, alias: string): Promise<AliasResponseDto> {
    const row = await this.aliases.find(modelId, alias);
    if (!row) throw aliasNotFound(modelId, alias);
    return AliasResponseDto.fromRow(row);
  }

  async list(modelId: number): Promise<AliasResponseDto[]> {
    const rows = await this.aliases.listForModel(modelId);
    if (rows.length === 0 && !(await this.aliases.modelExists(modelId))) throw new ResourceNotFoundError('model', modelId);
    return rows.map(AliasResponseDto.fromRow);
  }

  delete(modelId: number, alias: string): Promise<void> {
    return this.aliases.dataSource.transaction(async (manager) => {
      const deleted = await this.aliases.delete(modelId, alias, manager);
      if (!deleted) throw aliasNotFound(modelId, alias);
      await this.audit.record(manager, { action: 'alias.deleted', resourceType: 'alias', resourceId: `${modelId}/${alias}`, before: AliasResponseDto.fromRow(deleted) });
    });
  }
}
