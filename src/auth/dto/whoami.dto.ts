import { ApiProperty } from '@nestjs/swagger';
import type { Principal } from '../../common/auth/principal';
import { SCOPES } from '../../config/scopes';

export class WhoAmIDto {
  @ApiProperty({ description: 'The identity recorded in the audit log and on change events.', example: 'api_key:12' })
  actor: string;

  @ApiProperty({ enum: ['api_key', 'oidc', 'bootstrap', 'anonymous', 'metrics'], example: 'api_key', description: '`anonymous`: no credentials while AUTH_REQUIRED=false.' })
  type: string;

  @ApiProperty({ nullable: true, type: 'integer', example: 12 })
  key_id: number | null;

  @ApiProperty({ nullable: true, type: String, example: 'ci-pipeline', description: 'The API key\'s name.' })
  name: string | null;

  @ApiProperty({ nullable: true, type: String, example: null, description: 'The OIDC subject.' })
  subject: string | null;

  @ApiProperty({ enum: SCOPES, isArray: true, example: ['registry:read', 'registry:write'] })
  scopes: string[];

  @ApiProperty({ nullable: true, type: [String], example: ['team-a-*'], description: 'Model-name globs the caller is limited to; null: every model.' })
  models: string[] | null;

  @ApiProperty({ nullable: true, type: String, format: 'date-time', example: null, description: 'When the credentials stop working.' })
  expires_at: string | null;

  @ApiProperty({ description: 'Whether the service requires credentials (AUTH_REQUIRED).', example: true })
  auth_required: boolean;

  static of(principal: Principal, authRequired: boolean): WhoAmIDto {
    return {
      actor: principal.actor,
      type: principal.kind,
      key_id: principal.keyId,
      name: principal.name,
      subject: principal.subject,
      scopes: SCOPES.filter((scope) => principal.scopes.has(scope)),
      models: principal.models ? [...principal.models.patterns] : null,
      expires_at: principal.expiresAt?.toISOString() ?? null,
      auth_required: authRequired,
    };
  }
}
