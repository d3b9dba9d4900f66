import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateBy } from 'class-validator';
import { describeValidator } from '../../common/openapi/validator-schemas';
import { ToInteger } from '../../common/validation/validators';
import { encodeCursor } from '../event-cursor';
import type { EventRow } from '../events.repository';

export const EVENT_TYPES = [
  'model.created',
  'model.updated',
  'model.deleted',
  'version.created',
  'version.updated',
  'version.archived',
  'version.restored',
  'version.deleted',
  'version.purged',
  'binding.created',
  'binding.updated',
  'binding.deleted',
  'alias.set',
  'alias.deleted',
];

/**
 * Other spellings accepted wherever a client names event types to receive (webhook subscriptions, the
 * stream's `type` filter): `alias.updated` is what many gateways call an alias move. Events themselves
 * always carry the feed's name.
 */
export const EVENT_TYPE_SYNONYMS: Readonly<Record<string, string>> = { 'alias.updated': 'alias.set' };

/** The feed's name for an event type a client named (itself, or what its synonym stands for). */
export function canonicalEventType(type: string): string {
  return EVENT_TYPE_SYNONYMS[type] ?? type;
}

const ACCEPTED_TYPES = [...EVENT_TYPES, ...Object.keys(EVENT_TYPE_SYNONYMS)];

export class EventsQueryDto {
  @ApiPropertyOptional({ description: 'Return events after this cursor (a next_cursor, or an event\'s cursor); `now` starts at the head; omitted: from the oldest retained event.', example: 'now' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  after?: string;

  @ApiPropertyOptional({ description: 'Events per page.', minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @ToInteger()
  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: 'must be from 1 to 1000' })
  @Max(1000, { message: 'must be from 1 to 1000' })
  limit: number = 100;
}

const EVENT_FAMILIES = [...new Set(EVENT_TYPES.map((type) => type.slice(0, type.indexOf('.'))))];

const EVENT_TYPE_ITEM = `(?:${[...ACCEPTED_TYPES, ...EVENT_FAMILIES.map((family) => `${family}.*`)].map((item) => item.replace(/[.*]/g, '\\$&')).join('|')})`;
describeValidator('isEventTypeList', () => ({ type: 'string', pattern: `^${EVENT_TYPE_ITEM}(?:,${EVENT_TYPE_ITEM})*$` }));

/** `model.created` or a family `model.*`; the list is comma-separated. */
function isEventTypeList(value: unknown): boolean {
  return typeof value === 'string' && value.split(',').every((item) => ACCEPTED_TYPES.includes(item) || (item.endsWith('.*') && EVENT_FAMILIES.includes(item.slice(0, -2))));
}

export class EventStreamQueryDto {
  @ApiPropertyOptional({
    description: 'Start after this cursor (a next_cursor or an event\'s cursor); `now` (the default) starts at the head. Ignored when the request carries Last-Event-ID.',
    example: 'now',
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  after?: string;

  @ApiPropertyOptional({ description: 'Only events about these models: comma-separated model ids (at most 100).', example: '1,7', maxLength: 2000 })
  @IsOptional()
  @IsString()
  @Matches(/^[1-9]\d{0,15}(,[1-9]\d{0,15}){0,99}$/, { message: 'must be up to 100 comma-separated model ids' })
  model?: string;

  @ApiPropertyOptional({
    description: `Only events of these types: comma-separated, each a type or a family such as \`version.*\`. Types: ${EVENT_TYPES.join(', ')} (\`alias.updated\` is accepted for \`alias.set\`).`,
    example: 'version.*,alias.set',
    maxLength: 1000,
  })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  @ValidateBy({ name: 'isEventTypeList', validator: { validate: isEventTypeList, defaultMessage: () => `must be comma-separated event types (${EVENT_TYPES.join(', ')}) or families such as version.*` } })
  type?: string;
}

export class EventDto {
  @ApiProperty({ type: 'integer' })
  id: number;
  @ApiProperty({ description: 'Position of this event; pass it as `after` to continue after it.' })
  cursor: string;
  @ApiProperty({ enum: EVENT_TYPES, example: 'version.archived' })
  type: string;
  @ApiProperty({ format: 'date-time' })
  occurred_at: string;
  @ApiProperty({ nullable: true, type: 'integer', description: 'May be null on binding.deleted when the version was deleted in the same change.' })
  model_id: number | null;
  @ApiProperty({ nullable: true, type: 'integer' })
  version_id: number | null;
  @ApiProperty({ nullable: true, type: 'integer' })
  binding_id: number | null;
  @ApiProperty({ nullable: true, type: String })
  alias: string | null;
  @ApiProperty({
    description: 'For updates, `changed`: the fields that changed; for alias.set, `previous_version_id` when it moved. Events say what changed, not the new state: re-read the resource.',
    example: { changed: ['eval_score'] },
    type: 'object',
    additionalProperties: true,
  })
  data: Record<string, unknown>;
  @ApiProperty({
    nullable: true,
    type: String,
    example: 'api_key:12',
    description: 'Who made the change, as in the audit log: `api_key:<id>`, `oidc:<subject>`, `bootstrap`, `anonymous`, `system:<job>`; null for changes made outside the service.',
  })
  actor: string | null;

  static fromRow(row: EventRow): EventDto {
    return {
      id: row.id,
      cursor: encodeCursor({ txId: row.tx_id, id: row.id }),
      type: row.type,
      occurred_at: row.occurred_at.toISOString(),
      model_id: row.model_id,
      version_id: row.version_id,
      binding_id: row.binding_id,
      alias: row.alias,
      data: row.data,
      actor: row.actor,
    };
  }
}

export class EventPageDto {
  @ApiProperty({ type: [EventDto] })
  items: EventDto[];
  @ApiProperty({ description: 'Pass as `after` for the next page; the same cursor when there was nothing new (poll again later).' })
  next_cursor: string;
}
