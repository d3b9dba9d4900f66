import { ApiProperty } from '@nestjs/swagger';
import { plainPositiveInteger, registerFastPath } from './fast-path';
import { IsId } from './validators';

export class IdParamDto {
  @ApiProperty({ description: 'Numeric id.', example: 1, minimum: 1, type: 'integer' })
  @IsId({ fromText: true })
  id: number;
}

registerFastPath(IdParamDto, (params) => {
  const id = plainPositiveInteger(params.id);
  if (id === undefined || Object.keys(params).length !== 1) return undefined;
  const dto = new IdParamDto();
  dto.id = id;
  return dto;
});
