import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength, NotEquals } from 'class-validator';
import { IsId } from '../../common/validation/validators';
import type { AliasRow } from '../aliases.repository';

export const RESERVED_ALIAS = 'latest';

export class AliasParamsDto {
  @ApiProperty({ description: 'Model id.', example: 1, type: 'integer' })
  @IsId({ fromText: true })
  id: number;

  @ApiProperty({ description: `Alias: a lowercase slug (production, staging, canary, …); "${RESERVED_ALIAS}" is reserved (it means the newest live version).`, example: 'production' })
  @IsString()
  @MaxLength(64, { message: 'must be at most 64 characters' })
  @Matches(/^[a-z0-9][a-z0-9_-]*$/, { message: 'must be a lowercase slug: a-z, 0-9, "_" or "-", starting with a letter or digit' })
  @NotEquals(RESERVED_ALIAS, { message: `"${RESERVED_ALIAS}" is reserved: it always means the newest live version` })
  alias: string;
}

export class SetAliasDto {
  @ApiProperty({ description: 'A live version of this model.', example: 3, type: 'integer' })
  @IsId()
  version_id: number;
}

export class AliasResponseDto {
  @ApiProperty({ type: 'integer', example: 1 })
  model_id: number;
  @ApiProperty({ example: 'production' })
  alias: string;
  @ApiProperty({ type: 'integer', example: 3 })
  version_id: number;
  @ApiProperty({ description: 'The version string it points at.', example: '1.4.0' })
  version: string;
  @ApiProperty({ format: 'date-time' })
  created_at: string;
  @ApiProperty({ format: 'date-time', description: 'When it last moved.' })
  updated_at: string;

  static fromRow(row: AliasRow): AliasResponseDto {
    return {
      model_id: row.model_id,
      alias: row.alias,
      version_id: row.version_id,
      version: row.version,
      created_at: row.created_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
    };
  }
}
