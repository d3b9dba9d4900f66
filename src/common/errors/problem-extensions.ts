import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { ProblemCode } from './problem-types';

/**
 * The extension members a problem body may carry beyond RFC 9457's, per problem code. They are part
 * of the contract: the OpenAPI document gives each code a schema with these members (so a typed client
 * reads `current_etag` off a 412 without a cast), and `ApplicationError` only accepts the members
 * declared here for its code, so a thrower cannot send one that the document does not describe.
 */

export class ResolveExclusionDto {
  @ApiProperty({
    description: 'The constraint that excluded the versions.',
    enum: [
      'version', 'region', 'max_cost_per_1k', 'min_eval_score', 'require_slo', 'provider', 'active_binding',
      'selector', 'binding_selector', 'capability', 'max_input_cost_per_1m', 'binding_constraints',
    ],
    example: 'min_eval_score',
  })
  constraint: string;

  @ApiPropertyOptional({
    description: 'The value asked for (absent for active_binding).',
    oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }],
    example: 0.9,
  })
  value?: string | number | boolean;

  @ApiProperty({ description: 'The versions it excluded (at most 50).', type: [String], example: ['1.2.0', '1.3.0'] })
  versions: string[];
}

export class NotFoundExtensions {
  @ApiPropertyOptional({ description: 'The kind of resource that was not found.', example: 'model' })
  resource?: string;

  @ApiPropertyOptional({ description: 'Resolve: the versions that were considered (at most 50).', type: [String], example: ['1.3.0', '1.2.0'] })
  considered?: string[];

  @ApiPropertyOptional({ description: 'Resolve: which constraint excluded which of the considered versions.', type: [ResolveExclusionDto] })
  excluded?: ResolveExclusionDto[];
}

export class ConflictExtensions {
  @ApiPropertyOptional({ description: 'Registering a version: the id of the version that holds this version string or hash.', type: 'integer', example: 12 })
  existing_version_id?: number;

  @ApiPropertyOptional({ description: 'Deleting a model or version: the active bindings that prevent it.', type: 'array', items: { type: 'integer' }, example: [7, 9] })
  active_binding_ids?: number[];

  @ApiPropertyOptional({ description: 'Deleting a version: the aliases that point at it.', type: [String], example: ['production'] })
  aliases?: string[];

  @ApiPropertyOptional({ description: 'Restoring a version: the artifact is in cold storage and a restore has been requested; retry later.', example: true })
  restore_pending?: boolean;

  @ApiPropertyOptional({
    description: 'Restoring a version: why the service will not write its artifact back.',
    enum: ['outside_artifact_roots', 'unsafe_path', 'foreign_archive_uri'],
    example: 'outside_artifact_roots',
  })
  reason?: 'outside_artifact_roots' | 'unsafe_path' | 'foreign_archive_uri';

  @ApiPropertyOptional({ description: 'Retrying a webhook delivery: the delivery is still queued or being sent.', enum: ['pending', 'sending'], example: 'pending' })
  delivery_status?: 'pending' | 'sending';
}

export class ArtifactExistsExtensions {
  @ApiProperty({ description: 'The version whose artifact_uri is already taken.', type: 'integer', example: 12 })
  version_id: number;
}

export class PreconditionFailedExtensions {
  @ApiProperty({ description: 'The current ETag of the resource: read it again, or send this in If-Match to overwrite.', example: '"hGZ3m2xYl0bTqKQy3v0ZbcSg1y4"' })
  current_etag: string;
}

export class PoolStatsDto {
  @ApiProperty({ type: 'integer', description: 'Connections open.', example: 10 })
  total: number;
  @ApiProperty({ type: 'integer', description: 'Connections idle.', example: 0 })
  idle: number;
  @ApiProperty({ type: 'integer', description: 'Queries waiting for a connection.', example: 4 })
  waiting: number;
  @ApiProperty({ type: 'integer', description: 'Pool size (DB_POOL_SIZE).', example: 10 })
  max: number;
}

export class ServiceUnavailableExtensions {
  @ApiPropertyOptional({
    description: 'Readiness: the state of each check.',
    type: 'object',
    additionalProperties: { type: 'string', enum: ['up', 'degraded', 'down'] },
    example: { lifecycle: 'up', database: 'down' },
  })
  checks?: Record<string, 'up' | 'degraded' | 'down'>;

  @ApiPropertyOptional({ description: 'Readiness: the connection pool at the time of the check.', type: PoolStatsDto })
  pool?: PoolStatsDto;
}

export class UnauthorizedExtensions {
  @ApiProperty({
    description: 'Why the credentials were refused: none sent, a malformed header, an unknown, revoked or expired key, or a token that does not verify.',
    enum: ['missing', 'malformed', 'unknown', 'revoked', 'expired', 'invalid'],
    example: 'missing',
  })
  reason: 'missing' | 'malformed' | 'unknown' | 'revoked' | 'expired' | 'invalid';
}

export class ForbiddenExtensions {
  @ApiPropertyOptional({ description: 'The scopes of which the operation needs one (the caller has none of them).', type: [String], example: ['registry:manage'] })
  required_scopes?: string[];

  @ApiPropertyOptional({ description: 'The model name patterns the key is restricted to (the request touches another model, or every model).', type: [String], example: ['team-a-*'] })
  model_restriction?: readonly string[];
}

export class TooManyRequestsExtensions {
  @ApiProperty({ description: 'Requests allowed per minute (RATE_LIMIT_PER_MINUTE).', type: 'integer', example: 6000 })
  limit: number;

  @ApiProperty({ description: 'Seconds until the budget renews (also in Retry-After).', type: 'integer', example: 12 })
  retry_after_s: number;
}

/** Problem codes whose bodies carry extension members, and the class that documents them. */
export const PROBLEM_EXTENSIONS = {
  unauthorized: UnauthorizedExtensions,
  forbidden: ForbiddenExtensions,
  'too-many-requests': TooManyRequestsExtensions,
  'not-found': NotFoundExtensions,
  conflict: ConflictExtensions,
  'artifact-exists': ArtifactExistsExtensions,
  'precondition-failed': PreconditionFailedExtensions,
  'service-unavailable': ServiceUnavailableExtensions,
} as const satisfies Partial<Record<ProblemCode, abstract new () => object>>;

/** The extension members a problem of code `C` may carry (none for codes without a class above). */
export type ProblemExtensions<C extends ProblemCode> = C extends keyof typeof PROBLEM_EXTENSIONS ? InstanceType<(typeof PROBLEM_EXTENSIONS)[C]> : never;
