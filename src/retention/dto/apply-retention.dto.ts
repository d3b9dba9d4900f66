import { IsId } from '../../common/validation/validators';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, Max, Min } from 'class-validator';
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
  @IsInt({ message: 'must be an integer from 1 to 10' })
  @Min(1, { message: 'must be an integer from 1 to 10' })
  @Max(10, { message: 'must be an integer from 1 to 10' })
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
