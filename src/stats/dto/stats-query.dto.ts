import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { ToInteger } from '../../common/validation/validators';

export class StatsQueryDto {
  @ApiPropertyOptional({ description: 'Narrow every figure to this model.', type: 'integer', example: 1 })
  @IsOptional()
  @ToInteger()
  @IsInt({ message: 'must be a positive integer' })
  @Min(1, { message: 'must be a positive integer' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'is too large' })
  model_id?: number;
}
