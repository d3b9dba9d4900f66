import { ApiProperty } from '@nestjs/swagger';
import { IsId } from './validators';

export class IdParamDto {
  @ApiProperty({ description: 'Numeric id.', example: 1, minimum: 1, type: 'integer' })
  @IsId({ fromText: true })
  id: number;
}
