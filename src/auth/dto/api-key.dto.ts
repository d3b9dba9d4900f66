import { describeValidator } from '../../common/openapi/validator-schemas';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsOptional, IsString, Matches, ValidateBy } from 'class-validator';
import { isModelPattern, MAX_MODEL_PATTERNS } from '../../common/auth/model-patterns';
import { SCOPES, type Scope } from '../../config/scopes';
import { PageQueryDto } from '../../common/pagination/page-query.dto';
import { IsTimestamp } from '../../common/validation/validators';
import { API_KEY_SORTS, type ApiKeyRow, type ApiKeySort } from '../api-keys.repository';

// Each pattern's rule (1-128 of a-z 0-9 . _ - * ?) is in the property's description: the schema of an
// array's items is not something a validator of the whole array can narrow.
describeValidator('isModelPatternList', () => null);

export class CreateApiKeyDto {
  @ApiProperty({ description: 'What the key is for, shown in listings and the audit log: 1-100 printable characters.', example: 'ci-pipeline', maxLength: 100 })
  @IsString()
  @Matches(/^[^\s\u0000-\u001f\u007f](?:[^\u0000-\u001f\u007f]{0,98}[^\s\u0000-\u001f\u007f])?$/, { message: 'must be 1-100 printable characters without leading or trailing spaces' })
  name: string;

  @ApiProperty({ description: 'What the key may do (see the Security section of the README).', enum: SCOPES, isArray: true, example: ['registry:read', 'registry:write'] })
  @IsArray({ message: `must be an array of scopes (${SCOPES.join(', ')})` })
  @ArrayMinSize(1, { message: 'must hold at least one scope' })
  @ArrayUnique({ message: 'must not repeat a scope' })
  @IsIn(SCOPES, { each: true, message: `each must be one of ${SCOPES.join(', ')}` })
  scopes: Scope[];

  @ApiPropertyOptional({
    description: `Restricts the key to models whose names match these globs (\`*\` any run of characters, \`?\` one); other models are a 403 and lists leave them out. Omit for every model. Not allowed with \`admin\`. At most ${MAX_MODEL_PATTERNS}.`,
    example: ['team-a-*'],
    isArray: true,
    type: String,
    maxItems: MAX_MODEL_PATTERNS,
  })
  @IsOptional()
  @IsArray({ message: 'must be an array of model-name patterns' })
  @ArrayMinSize(1, { message: 'must hold at least one pattern (omit it for every model)' })
  @ArrayMaxSize(MAX_MODEL_PATTERNS, { message: `must hold at most ${MAX_MODEL_PATTERNS} patterns` })
  @ArrayUnique({ message: 'must not repeat a pattern' })
  @ValidateBy({
    name: 'isModelPatternList',
    validator: {
      validate: (value: unknown) => Array.isArray(value) && value.every(isModelPattern),
      defaultMessage: () => 'each pattern must be 1-128 characters of a-z, 0-9, ".", "_", "-", "*" or "?"',
    },
  })
  models?: string[];

  @ApiPropertyOptional({ description: 'When the key stops working (RFC 3339, in the future). Omit for a key that does not expire.', example: '2027-06-30T00:00:00Z' })
  @IsOptional()
  @IsTimestamp()
  expires_at?: string;
}

export class ListApiKeysQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Order; newest first by default. Ties are broken by id.', enum: API_KEY_SORTS, default: '-created_at' })
  @IsOptional()
  @IsIn(API_KEY_SORTS, { message: `must be one of ${API_KEY_SORTS.join(', ')}` })
  sort: ApiKeySort = '-created_at';
}

export const API_KEY_STATUSES = ['active', 'expired', 'revoked'] as const;

export class ApiKeyResponseDto {
  @ApiProperty({ type: 'integer', example: 12 })
  id: number;

  @ApiProperty({ example: 'ci-pipeline' })
  name: string;

  @ApiProperty({ description: 'The visible start of the key (the rest is never shown again).', example: 'mrk_3f9a1c2b7d4e' })
  prefix: string;

  @ApiProperty({ enum: SCOPES, isArray: true, example: ['registry:read', 'registry:write'] })
  scopes: string[];

  @ApiProperty({ description: 'Model-name globs the key is limited to; null: every model.', nullable: true, type: [String], example: ['team-a-*'] })
  models: string[] | null;

  @ApiProperty({ nullable: true, type: String, format: 'date-time', example: '2027-06-30T00:00:00.000Z' })
  expires_at: string | null;

  @ApiProperty({ enum: API_KEY_STATUSES, example: 'active', description: 'active, expired (past expires_at) or revoked.' })
  status: (typeof API_KEY_STATUSES)[number];

  @ApiProperty({ format: 'date-time', example: '2026-11-26T12:00:00.000Z' })
  created_at: string;

  @ApiProperty({ nullable: true, type: String, example: 'bootstrap', description: 'Who created it (an actor identity, as in the audit log).' })
  created_by: string | null;

  @ApiProperty({ nullable: true, type: String, format: 'date-time', example: '2026-11-26T12:05:00.000Z', description: 'Last time the key authenticated a request, to within a minute.' })
  last_used_at: string | null;

  @ApiProperty({ nullable: true, type: String, format: 'date-time', example: null })
  revoked_at: string | null;

  @ApiProperty({ nullable: true, type: String, example: null, description: 'Who revoked it.' })
  revoked_by: string | null;

  static fromRow(row: ApiKeyRow, now = new Date()): ApiKeyResponseDto {
    return {
      id: row.id,
      name: row.name,
      prefix: row.prefix,
      scopes: row.scopes,
      models: row.models,
      expires_at: row.expires_at?.toISOString() ?? null,
      status: row.revoked_at ? 'revoked' : row.expires_at && row.expires_at <= now ? 'expired' : 'active',
      created_at: row.created_at.toISOString(),
      created_by: row.created_by,
      last_used_at: row.last_used_at?.toISOString() ?? null,
      revoked_at: row.revoked_at?.toISOString() ?? null,
      revoked_by: row.revoked_by,
    };
  }
}

export class CreatedApiKeyDto extends ApiKeyResponseDto {
  @ApiProperty({ description: 'The key. Shown once, in this response only: store it now. Send it as `Authorization: Bearer <key>`.', example: 'mrk_3f9a1c2b7d4e_Q2xyZ3Rlc3Qta2V5LW9ubHktZm9yLWRvY3MtZXhhbXBsZQ' })
  key: string;
}

export class ApiKeyPageDto {
  @ApiProperty({ type: [ApiKeyResponseDto] })
  items: ApiKeyResponseDto[];

  @ApiProperty({ description: 'Token for the next page, or null on the last page.', nullable: true, type: String, example: null })
  next_page_token: string | null;
}
