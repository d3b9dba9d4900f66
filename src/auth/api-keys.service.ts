import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditLog } from '../audit/audit-log.service';
import { RequestContext } from '../common/context/request-context';
import { RequestValidationError, ResourceNotFoundError } from '../common/errors/application.error';
import type { Page } from '../common/pagination/keyset';
import { generateApiKey } from './api-key-format';
import { ApiKeyCache } from './api-key.cache';
import { ApiKeysRepository, type ApiKeySort } from './api-keys.repository';
import { ApiKeyResponseDto, type CreateApiKeyDto, type CreatedApiKeyDto } from './dto/api-key.dto';

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly cache: ApiKeyCache,
    private readonly audit: AuditLog,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** Creates a key; the key itself is in this answer only. */
  async create(dto: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    if (dto.models && dto.scopes.includes('admin')) {
      throw new RequestValidationError([{ field: 'models', message: 'an admin key cannot be restricted to models; give it the scopes it needs instead of admin' }]);
    }
    if (dto.expires_at && Date.parse(dto.expires_at) <= Date.now()) {
      throw new RequestValidationError([{ field: 'expires_at', message: 'must be in the future' }]);
    }
    const generated = generateApiKey();
    return this.dataSource.transaction(async (manager) => {
      const row = await this.keys.insert(
        {
          name: dto.name,
          prefix: generated.prefix,
          hash: generated.hash,
          scopes: dto.scopes,
          models: dto.models ?? null,
          expiresAt: dto.expires_at ?? null,
          createdBy: RequestContext.current()?.actor.actor ?? null,
        },
        manager,
      );
      const created = ApiKeyResponseDto.fromRow(row);
      await this.audit.record(manager, { action: 'api_key.created', resourceType: 'api_key', resourceId: row.id, after: created });
      return { ...created, key: generated.key };
    });
  }

  list(sort: ApiKeySort, limit: number, pageToken: string | undefined): Promise<Page<ApiKeyResponseDto>> {
    const now = new Date();
    return this.keys.listPage(sort, limit, pageToken, (row) => ApiKeyResponseDto.fromRow(row, now));
  }

  async get(id: number): Promise<ApiKeyResponseDto> {
    const row = await this.keys.findById(id);
    if (!row) throw new ResourceNotFoundError('API key', id);
    return ApiKeyResponseDto.fromRow(row);
  }

  /**
   * Revokes a key (idempotent: revoking it again changes nothing). This replica forgets it at once;
   * the others within a second or two (ApiKeyCache polls for revocations).
   */
  async revoke(id: number): Promise<void> {
    const prefix = await this.dataSource.transaction(async (manager) => {
      const current = await this.keys.findById(id, manager, { lock: true });
      if (!current) throw new ResourceNotFoundError('API key', id);
      if (current.revoked_at) return current.prefix;
      const revoked = await this.keys.revoke(id, RequestContext.current()?.actor.actor ?? 'unknown', manager);
      await this.audit.record(manager, {
        action: 'api_key.revoked',
        resourceType: 'api_key',
        resourceId: id,
        before: ApiKeyResponseDto.fromRow(current),
        after: ApiKeyResponseDto.fromRow(revoked),
      });
      return current.prefix;
    });
    this.cache.forget(prefix);
  }
}
