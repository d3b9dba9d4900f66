import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ApplicationError } from '../common/errors/application.error';
import { ApiProblemResponses } from '../common/openapi/api-problem-responses.decorator';
import { PROBLEM_TYPES, problemTypeUri, type ProblemCode } from '../common/errors/problem-types';
import { Public } from '../common/auth/access.decorator';

class ProblemTypeDto {
  @ApiProperty({ description: 'The `type` URI problem bodies of this kind carry.', example: '/problems/validation-error' })
  type: string;
  @ApiProperty({ description: 'The `code` problem bodies of this kind carry.', enum: Object.keys(PROBLEM_TYPES), example: 'validation-error' })
  code: string;
  @ApiProperty({ description: 'The HTTP status it comes with.', type: 'integer', example: 400 })
  status: number;
  @ApiProperty({ description: 'Its title.', example: 'Request validation failed' })
  title: string;
  @ApiProperty({ description: 'When it happens and what to do.', example: 'One or more fields are invalid. `errors` lists each field.' })
  description: string;
}

const describe = (code: ProblemCode): ProblemTypeDto => {
  const { status, title, description } = PROBLEM_TYPES[code];
  return { type: problemTypeUri(code), code, status, title, description };
};

/** Documentation for the `type` URIs that problem+json bodies carry. */
@ApiTags('problems')
@Controller('problems')
export class ProblemsController {
  @Get()
  @Public()
  @ApiOperation({
    operationId: 'listProblemTypes',
    summary: 'Every problem type this API reports',
    description: 'The catalogue behind the `type` and `code` members of problem+json bodies.',
  })
  @ApiOkResponse({ type: [ProblemTypeDto], description: 'Every problem type.' })
  list(): ProblemTypeDto[] {
    return (Object.keys(PROBLEM_TYPES) as ProblemCode[]).map(describe);
  }

  @Get(':code')
  @Public()
  @ApiOperation({ operationId: 'getProblemType', summary: 'One problem type, by code', description: 'What a `type` URI such as /problems/conflict means.' })
  @ApiParam({ name: 'code', description: 'A problem code.', example: 'validation-error' })
  @ApiOkResponse({ type: ProblemTypeDto, description: 'The problem type.' })
  @ApiProblemResponses(404)
  get(@Param('code') code: string): ProblemTypeDto {
    if (!Object.hasOwn(PROBLEM_TYPES, code)) {
      throw new ApplicationError('not-found', `No problem type ${JSON.stringify(code)} exists. GET /problems lists them.`);
    }
    return describe(code as ProblemCode);
  }
}
