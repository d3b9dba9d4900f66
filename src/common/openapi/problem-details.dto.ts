import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PROBLEM_TYPES } from '../errors/problem-types';

export class FieldErrorDto {
  @ApiProperty({ description: 'Path of the offending field in the request (body, query or path).', example: 'eval_score' })
  field: string;

  @ApiProperty({ description: 'What is wrong with it.', example: 'must be a number from 0 to 1' })
  message: string;
}

/**
 * RFC 9457 problem details, as every error response of this API carries them: the members every
 * problem has. The document composes one schema per problem code from it (see problem-schemas.ts).
 */
export class ProblemDetailsDto {
  @ApiProperty({ description: 'URI reference identifying the problem type; GET it for documentation.', example: '/problems/validation-error' })
  type: string;

  @ApiProperty({ description: 'Short summary of the problem type.', example: 'Request validation failed' })
  title: string;

  @ApiProperty({ description: 'HTTP status code.', type: 'integer', example: 400 })
  status: number;

  @ApiProperty({ description: 'Explanation specific to this occurrence.', example: 'eval_score: must be a number from 0 to 1' })
  detail: string;

  @ApiProperty({ description: 'The request path this problem occurred on.', example: '/versions' })
  instance: string;

  @ApiProperty({ description: 'Machine-readable problem code.', enum: Object.keys(PROBLEM_TYPES), example: 'validation-error' })
  code: string;

  @ApiProperty({ description: 'Request id (also in the X-Request-Id header); quote it when reporting a problem.', example: '6f1c1f0e-8a54-4b43-9a53-9bd1b1f6c3a7' })
  request_id: string;

  @ApiPropertyOptional({ description: 'Field-level errors: every invalid field of a validation error, the field a conflict or constraint is about.', type: [FieldErrorDto] })
  errors?: FieldErrorDto[];
}
