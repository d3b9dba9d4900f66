import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString } from 'class-validator';
import { IsSemVerString, IsSha256, ToLowerCase } from '../../common/validation/validators';
import { VersionFieldsDto } from './create-version.dto';

/**
 * Partial update. `model_id`, `hash` and `version` identify the version and cannot change: they may
 * be sent (e.g. a whole object read back) only with their current values.
 */
export class UpdateVersionDto extends VersionFieldsDto {
  @ApiPropertyOptional({ description: 'Immutable: accepted only with its current value.', type: 'integer' })
  @IsOptional()
  @IsInt({ message: 'must be an integer' })
  model_id?: number;

  @ApiPropertyOptional({ description: 'Immutable: accepted only with its current value.' })
  @IsOptional()
  @ToLowerCase()
  @IsString()
  @IsSha256()
  hash?: string;

  @ApiPropertyOptional({ description: 'Immutable: accepted only with its current value.' })
  @IsOptional()
  @IsString()
  @IsSemVerString()
  version?: string;
}
