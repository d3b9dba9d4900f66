import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsId } from '../../common/validation/validators';

export class StatsQueryDto {
  @ApiPropertyOptional({ description: 'Narrow every figure to this model.', type: 'integer', example: 1 })
  @IsOptional()
  @IsId({ fromText: true })
  model_id?: number;
}
