import { ApiProperty } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { ToInteger } from './validators';

export class IdParamDto {
  @ApiProperty({ description: 'Numeric id.', example: 1, minimum: 1, type: 'integer' })
  @ToInteger()
  @IsInt({ message: 'must be a positive integer' })
  @Min(1, { message: 'must be a positive integer' })
  @Max(Number.MAX_SAFE_INTEGER, { message: 'is too large' })
  id: number;
}
