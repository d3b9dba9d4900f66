import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApplicationError } from '../common/errors/application.error';
import { ApiProblemResponses } from '../common/openapi/api-problem-responses.decorator';
import { PROBLEM_TYPES, problemTypeUri, type ProblemCode } from '../common/errors/problem-types';
import { Public } from '../common/auth/access.decorator';

class ProblemTypeDto {
  @ApiProperty({ example: '/problems/validation-error' })
  type: string;
  @ApiProperty({ example: 'validation-error' })
  code: string;
  @ApiProperty({ example: 400 })
  status: number;
  @ApiProperty({ example: 'Request validation failed' })
  title: string;
  @ApiProperty({ example: 'One or more fields are invalid. `errors` lists each field.' })
  description: string;
}

const describe = (code: ProblemCode): ProblemTypeDto => ({ type: problemTypeUri(code), code, ...PROBLEM_TYPES[code] });

/** Documentation for the `type` URIs that problem+json bodies carry. */
@ApiTags('problems')
@Controller('problems')
export class ProblemsController {
  @Get()
  @Public()
  @ApiOperation({ operationId: 'listProblemTypes', summary: 'Every problem type this API reports' })
  @ApiOkResponse({ type: [ProblemTypeDto] })
  @ApiProblemResponses()
  list(): ProblemTypeDto[] {
    return (Object.keys(PROBLEM_TYPES) as ProblemCode[]).map(describe);
  }

  @Get(':code')
  @Public()
  @ApiOperation({ operationId: 'getProblemType', summary: 'One problem type, by code' })
  @ApiParam({ name: 'code', example: 'validation-error' })
  @ApiOkResponse({ type: ProblemTypeDto })
  @ApiProblemResponses(404)
  get(@Param('code') code: string): ProblemTypeDto {
    if (!Object.hasOwn(PROBLEM_TYPES, code)) {
      throw new ApplicationError('not-found', `No problem type ${JSON.stringify(code)} exists. GET /problems lists them.`);
    }
    return describe(code as ProblemCode);
  }
}
