import { IsId, IsRetentionCount } from '../../common/validation/validators';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';
import { IsOptionalButNotNull } from '../../common/validation/optional';

export class ApplyRetentionDto {
  @ApiPropertyOptional({ description: 'Only this model; without it, every model.', example: 1, type: 'integer', minimum: 1 })
  @IsOptionalButNotNull()
  @IsId()
  model_id?: number;

  @ApiPropertyOptional({
    description: "Versions to keep per model (1-10), overriding each model's retention_count and the default.",
    example: 3,
    minimum: 1,
    maximum: 10,
    type: 'integer',
  })
  @IsOptionalButNotNull()
  @IsRetentionCount()
  retention_count?: number;

  @ApiPropertyOptional({ description: 'Report what would happen without changing anything.', default: false })
  @IsOptionalButNotNull()
  @IsBoolean({ message: 'must be true or false' })
  dry_run?: boolean;

  @ApiPropertyOptional({ description: 'Also purge versions archived more than RETENTION_PURGE_DAYS ago.', default: false })
  @IsOptionalButNotNull()
  @IsBoolean({ message: 'must be true or false' })
  purge?: boolean;
}
