import { ApiProperty } from '@nestjs/swagger';
import { registerFastPath } from './fast-path';
import { IsId } from './validators';

export class IdParamDto {
  @ApiProperty({ description: 'Numeric id.', example: 1, minimum: 1, type: 'integer' })
  @IsId({ fromText: true })
  id: number;
}

/** Up to 15 digits stays below 2^53; leading zeros are what the conversion also accepts. */
const PLAIN_ID = /^\d{1,15}$/;

registerFastPath(IdParamDto, (params) => {
  const id = params.id;
  if (typeof id !== 'string' || !PLAIN_ID.test(id) || Object.keys(params).length !== 1) return undefined;
  const value = Number(id);
  if (value < 1) return undefined;
  const dto = new IdParamDto();
  dto.id = value;
  return dto;
});
