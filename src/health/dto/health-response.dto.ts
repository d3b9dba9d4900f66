import { ApiProperty } from '@nestjs/swagger';

export class HealthResponseDto {
  @ApiProperty({ description: 'Overall status.', enum: ['ok', 'degraded'], example: 'ok' })
  status: string;

  @ApiProperty({
    description: 'Each check that passed, by name.',
    example: { database: { status: 'up' } },
    type: 'object',
    additionalProperties: { type: 'object', properties: { status: { type: 'string' } } },
  })
  info: Record<string, { status: string }>;

  @ApiProperty({
    description: 'Each check that failed, by name (empty when healthy).',
    example: {},
    type: 'object',
    additionalProperties: { type: 'object', properties: { status: { type: 'string' } } },
  })
  error: Record<string, { status: string }>;

  @ApiProperty({
    description: 'All checks, by name.',
    example: { database: { status: 'up' } },
    type: 'object',
    additionalProperties: { type: 'object', properties: { status: { type: 'string' } } },
  })
  details: Record<string, { status: string }>;
}
