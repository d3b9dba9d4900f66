import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../common/pagination/page-query.dto';
import { IsTimestamp } from '../../common/validation/validators';
import { ACTOR_TYPES } from '../audit-entry.entity';
import { AUDIT_SORTS, type AuditRow, type AuditSort } from '../audit.repository';

export class ListAuditQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only changes by this actor: an identity (`api_key:12`, `oidc:<subject>`, `bootstrap`), a key name, or an OIDC subject.', example: 'api_key:12', maxLength: 300 })
  @IsOptional()
  @IsString()
  @MaxLength(300)
  actor?: string;

  @ApiPropertyOptional({ description: 'Only this action.', example: 'model.deleted', maxLength: 64 })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_]{1,32}\.[a-z_]{1,31}$/, { message: 'must be an action such as model.deleted' })
  action?: string;

  @ApiPropertyOptional({ description: 'Only changes to this type of resource.', example: 'model', enum: ['model', 'version', 'binding', 'alias', 'retention_run', 'api_key'] })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_]{1,32}$/, { message: 'must be a resource type such as model' })
  resource_type?: string;

  @ApiPropertyOptional({ description: 'Only changes to this resource (with resource_type). Aliases are `<model id>/<alias>`.', example: '12', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  resource_id?: string;

  @ApiPropertyOptional({ description: 'Only changes at or after this time (RFC 3339).', example: '2026-11-01T00:00:00Z' })
  @IsOptional()
  @IsTimestamp()
  since?: string;

  @ApiPropertyOptional({ description: 'Only changes before this time (RFC 3339).', example: '2026-12-01T00:00:00Z' })
  @IsOptional()
  @IsTimestamp()
  until?: string;

  @ApiPropertyOptional({ description: 'Order; newest first by default. Ties are broken by id.', enum: AUDIT_SORTS, default: '-occurred_at' })
  @IsOptional()
  @IsIn(AUDIT_SORTS, { message: `must be one of ${AUDIT_SORTS.join(', ')}` })
  sort: AuditSort = '-occurred_at';
}

export class AuditEntryDto {
  @ApiProperty({ type: 'integer', example: 41 })
  id: number;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T12:00:00.000Z', description: 'When the transaction that made the change began.' })
  occurred_at: string;

  @ApiProperty({ description: 'Who made the change: `api_key:<id>`, `oidc:<subject>`, `bootstrap`, `anonymous` (AUTH_REQUIRED=false) or `system:<job>`.', example: 'api_key:12', maxLength: 300 })
  actor: string;

  @ApiProperty({ enum: ACTOR_TYPES, example: 'api_key' })
  actor_type: string;

  @ApiProperty({ nullable: true, type: 'integer', example: 12, description: 'The API key used.' })
  actor_key_id: number | null;

  @ApiProperty({ nullable: true, type: String, example: 'ci-pipeline', description: 'The API key\'s name.' })
  actor_name: string | null;

  @ApiProperty({ nullable: true, type: String, example: null, description: 'The OIDC subject.' })
  actor_subject: string | null;

  @ApiProperty({ example: 'model.updated', description: '`<resource>.<what happened>`: model/version/binding `.created`/`.updated`/`.deleted`, `version.restored`, `alias.set`/`.deleted`, `retention.applied`, `api_key.created`/`.revoked`.' })
  action: string;

  @ApiProperty({ example: 'model' })
  resource_type: string;

  @ApiProperty({ nullable: true, type: String, example: '7', description: 'The resource\'s id (aliases: `<model id>/<alias>`).' })
  resource_id: string | null;

  @ApiProperty({ nullable: true, type: String, example: '6f1c1f0e-8a54-4b43-9a53-9bd1b1f6c3a7', description: 'X-Request-Id of the request that made the change.' })
  request_id: string | null;

  @ApiProperty({
    nullable: true,
    type: 'object',
    additionalProperties: true,
    example: { description: 'old' },
    description: 'Before the change: the changed fields (the whole resource for a deletion; null for a creation). Secrets are never recorded.',
  })
  before: Record<string, unknown> | null;

  @ApiProperty({
    nullable: true,
    type: 'object',
    additionalProperties: true,
    example: { description: 'new' },
    description: 'After the change: the changed fields (the whole resource for a creation; null for a deletion).',
  })
  after: Record<string, unknown> | null;

  static fromRow(row: AuditRow): AuditEntryDto {
    return {
      id: row.id,
      occurred_at: row.occurred_at.toISOString(),
      actor: row.actor,
      actor_type: row.actor_type,
      actor_key_id: row.actor_key_id,
      actor_name: row.actor_name,
      actor_subject: row.actor_subject,
      action: row.action,
      resource_type: row.resource_type,
      resource_id: row.resource_id,
      request_id: row.request_id,
      before: row.before,
      after: row.after,
    };
  }
}

export class AuditPageDto {
  @ApiProperty({ type: [AuditEntryDto] })
  items: AuditEntryDto[];

  @ApiProperty({ description: 'Token for the next page, or null on the last page.', nullable: true, type: String, example: null })
  next_page_token: string | null;
}
