import { ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';

export class HealthCheckStateDto {
  @ApiProperty({ description: 'up, degraded (still serving) or down.', enum: ['up', 'degraded', 'down'], example: 'up' })
  status: string;

  @ApiPropertyOptional({ description: 'Why the check is degraded or down.', example: 'connection pool saturated: 10/10 in use, 4 waiting' })
  message?: string;

  @ApiPropertyOptional({ description: 'Checks with a timeout: how long the check took, in milliseconds (the health check library names it so).', type: 'integer', example: 3 })
  responseTime?: number;

  @ApiPropertyOptional({ description: 'process: seconds since the process started.', type: 'integer', example: 3600 })
  uptime_s?: number;

  @ApiPropertyOptional({ description: 'pool: connections open.', type: 'integer', example: 3 })
  total?: number;

  @ApiPropertyOptional({ description: 'pool: connections idle.', type: 'integer', example: 2 })
  idle?: number;

  @ApiPropertyOptional({ description: 'pool: queries waiting for a connection.', type: 'integer', example: 0 })
  waiting?: number;

  @ApiPropertyOptional({ description: 'pool: pool size (DB_POOL_SIZE).', type: 'integer', example: 10 })
  max?: number;
}

const checkMap = (description: string, example: Record<string, { status: string }>) =>
  ApiProperty({ description, example, type: 'object', additionalProperties: { $ref: getSchemaPath(HealthCheckStateDto) } });

@ApiExtraModels(HealthCheckStateDto)
export class HealthResponseDto {
  @ApiProperty({ description: 'ok, or degraded while a check is degraded (the instance still serves).', enum: ['ok', 'degraded'], example: 'ok' })
  status: string;

  @checkMap('Each check that passed, by name.', { database: { status: 'up' } })
  info: Record<string, HealthCheckStateDto>;

  @checkMap('Each check that failed, by name (empty when healthy).', {})
  error: Record<string, HealthCheckStateDto>;

  @checkMap('All checks, by name.', { database: { status: 'up' } })
  details: Record<string, HealthCheckStateDto>;
}
