import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, ValidateBy } from 'class-validator';
import { describeValidator } from '../../common/openapi/validator-schemas';
import { PageQueryDto } from '../../common/pagination/page-query.dto';
import { IsOptionalButNotNull } from '../../common/validation/optional';
import { IsId, ToBoolean } from '../../common/validation/validators';
import { EVENT_TYPE_SYNONYMS, EVENT_TYPES } from '../../events/dto/event.dto';
import { ALL_EVENTS } from '../webhook-matcher';
import type { WebhookRow } from '../webhooks.repository';

export const SUBSCRIBABLE = [...EVENT_TYPES, ...Object.keys(EVENT_TYPE_SYNONYMS), ALL_EVENTS];
export const MAX_SELECTOR_LENGTH = 1024;
export const MAX_REPLAY = 10_000;

// "*" only alone: no JSON Schema equivalent; the property's description says so.
describeValidator('isEventList', () => null);

/** `["*"]` alone, or event types of the change feed. */
function IsEventList() {
  return applyDecorators(
    IsArray({ message: 'must be an array of event types' }),
    ArrayMinSize(1, { message: 'must name at least one event type (or "*")' }),
    ArrayMaxSize(32, { message: 'must name at most 32 event types' }),
    ArrayUnique({ message: 'must not repeat an event type' }),
    IsIn(SUBSCRIBABLE, { each: true, message: `each must be one of ${SUBSCRIBABLE.join(', ')}` }),
    ValidateBy({
      name: 'isEventList',
      validator: {
        validate: (value: unknown) => !Array.isArray(value) || !value.includes(ALL_EVENTS) || value.length === 1,
        defaultMessage: () => '"*" (every event) cannot be combined with other types',
      },
    }),
  );
}

const IsText = (max: number) => applyDecorators(IsString(), MaxLength(max, { message: `must be at most ${max} characters` }));
const IsTrueOrFalse = () => IsBoolean({ message: 'must be true or false' });

const URL_PROPERTY = {
  description:
    'Where deliveries are POSTed: an https URL whose host is (and resolves only to) public addresses; no credentials, no fragment. Checked again at every connection. ' +
    'Plain http and private addresses only with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true (development).',
  example: 'https://ci.example.com/hooks/model-registry',
  maxLength: 2048,
};
const EVENTS_PROPERTY = {
  description: 'Change-feed event types to deliver, or `["*"]` for all of them. `alias.updated` is accepted for `alias.set` (kept as written; deliveries carry the feed\'s type).',
  example: ['version.created', 'alias.set'],
  type: 'array',
  items: { type: 'string', enum: SUBSCRIBABLE },
  minItems: 1,
  maxItems: 32,
  uniqueItems: true,
} as const;
const SELECTOR_PROPERTY = {
  description:
    "Kubernetes-style label selector over the labels of the event's model (`team=payments,env in (prod,staging)`, `!deprecated`, …). " +
    'Events without a model, or of a model whose labels are unknown, do not match. null or empty: no selector.',
  example: 'team=payments,env!=dev',
  maxLength: MAX_SELECTOR_LENGTH,
  nullable: true,
  type: String,
};
const MODEL_ID_PROPERTY = { description: 'Only events of this model (its versions, bindings and aliases too). null: every model.', example: 1, type: 'integer', nullable: true, minimum: 1 } as const;
const DESCRIPTION_PROPERTY = { description: 'Free text for operators.', example: 'CI pipeline: redeploy on alias moves', maxLength: 1000, nullable: true, type: String };

/** The fields that may be cleared with null (in an update) or left out. */
class WebhookOptionalFieldsDto {
  @ApiPropertyOptional(SELECTOR_PROPERTY)
  @IsOptional()
  @IsText(MAX_SELECTOR_LENGTH)
  selector?: string | null;

  @ApiPropertyOptional(MODEL_ID_PROPERTY)
  @IsOptional()
  @IsId()
  model_id?: number | null;

  @ApiPropertyOptional(DESCRIPTION_PROPERTY)
  @IsOptional()
  @IsText(1000)
  description?: string | null;
}

export class CreateWebhookDto extends WebhookOptionalFieldsDto {
  @ApiProperty(URL_PROPERTY)
  @IsText(2048)
  url: string;

  @ApiProperty(EVENTS_PROPERTY)
  @IsEventList()
  events: string[];

  @ApiPropertyOptional({ description: 'Whether events are delivered. A disabled subscription gets no deliveries for events while it is disabled.', default: true })
  @IsOptional()
  @IsTrueOrFalse()
  enabled?: boolean;
}

/** Partial update: only the fields sent change; `null` clears selector, model_id and description. */
export class UpdateWebhookDto extends WebhookOptionalFieldsDto {
  @ApiPropertyOptional(URL_PROPERTY)
  @IsOptionalButNotNull()
  @IsText(2048)
  url?: string;

  @ApiPropertyOptional(EVENTS_PROPERTY)
  @IsOptionalButNotNull()
  @IsEventList()
  events?: string[];

  @ApiPropertyOptional({
    description: 'false pauses deliveries (`disabled_reason: manual`); true resumes them, also after the service disabled it, and clears the failure streak.',
    example: true,
  })
  @IsOptionalButNotNull()
  @IsTrueOrFalse()
  enabled?: boolean;
}

export const WEBHOOK_SORTS = ['created_at', '-created_at'] as const;

export class ListWebhooksQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only enabled (true) or disabled (false) subscriptions.', example: true })
  @IsOptional()
  @ToBoolean()
  @IsTrueOrFalse()
  enabled?: boolean;

  @ApiPropertyOptional({ description: 'Only subscriptions to this model.', example: 1, type: 'integer', minimum: 1 })
  @IsOptional()
  @IsId({ fromText: true })
  model_id?: number;

  @ApiPropertyOptional({ description: 'Order; `-` for descending. Ties are broken by id.', enum: WEBHOOK_SORTS, default: 'created_at' })
  @IsOptional()
  @IsIn(WEBHOOK_SORTS, { message: `must be one of ${WEBHOOK_SORTS.join(', ')}` })
  sort: (typeof WEBHOOK_SORTS)[number] = 'created_at';
}

export class WebhookResponseDto {
  @ApiProperty({ type: 'integer', example: 1 })
  id: number;
  @ApiProperty({ example: 'https://ci.example.com/hooks/model-registry' })
  url: string;
  @ApiProperty({ type: [String], example: ['version.created', 'alias.set'] })
  events: string[];
  @ApiProperty({ nullable: true, type: String, example: 'team=payments' })
  selector: string | null;
  @ApiProperty({ nullable: true, type: 'integer', example: null })
  model_id: number | null;
  @ApiProperty({ nullable: true, type: String, example: 'CI pipeline' })
  description: string | null;
  @ApiProperty({ example: true })
  enabled: boolean;
  @ApiProperty({
    nullable: true,
    type: String,
    enum: ['manual', 'consecutive_failures'],
    description: '`manual`: disabled by request; `consecutive_failures`: disabled by the service after 3 days of failed attempts. null while enabled.',
    example: null,
  })
  disabled_reason: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', example: null })
  disabled_at: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'Since when every attempt has failed (null after a success).', example: null })
  failing_since: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'Last successful delivery.', example: '2026-11-26T12:00:00.000Z' })
  last_delivered_at: string | null;
  @ApiProperty({ type: 'integer', description: 'Deliveries queued or being sent.', example: 0 })
  pending_deliveries: number;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'After a rotation: until when the previous secret still signs (a second `v1,` signature).',
    example: null,
  })
  previous_secret_expires_at: string | null;
  @ApiProperty({ format: 'date-time' })
  created_at: string;
  @ApiProperty({ format: 'date-time' })
  updated_at: string;

  static fromRow(row: WebhookRow, now = new Date()): WebhookResponseDto {
    const iso = (date: Date | null) => (date ? date.toISOString() : null);
    return {
      id: row.id,
      url: row.url,
      events: row.events,
      selector: row.selector,
      model_id: row.model_id,
      description: row.description,
      enabled: row.enabled,
      disabled_reason: row.disabled_reason,
      disabled_at: iso(row.disabled_at),
      failing_since: iso(row.failing_since),
      last_delivered_at: iso(row.last_delivered_at),
      pending_deliveries: row.pending_deliveries,
      previous_secret_expires_at: row.previous_secret_expires_at && row.previous_secret_expires_at > now ? row.previous_secret_expires_at.toISOString() : null,
      created_at: row.created_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
    };
  }
}

export class WebhookWithSecretDto extends WebhookResponseDto {
  @ApiProperty({
    description: 'The signing secret (Standard Webhooks format). Shown only in this response: store it now. Verify deliveries with it.',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  })
  secret: string;
}

export class WebhookPageDto {
  @ApiProperty({ type: [WebhookResponseDto] })
  items: WebhookResponseDto[];
  @ApiProperty({ description: 'Token for the next page, or null on the last page.', nullable: true, type: String, example: null })
  next_page_token: string | null;
}

export class WebhookIdParamDto {
  @ApiProperty({ description: 'Webhook id.', example: 1, minimum: 1, type: 'integer' })
  @IsId({ fromText: true })
  id: number;
}

export class DeliveryParamsDto extends WebhookIdParamDto {
  @ApiProperty({ description: 'Delivery id.', example: 42, minimum: 1, type: 'integer' })
  @IsId({ fromText: true })
  delivery_id: number;
}

export class ReplayWebhookDto {
  @ApiProperty({
    description: 'A change-feed cursor (an event\'s `cursor`, or a `next_cursor` of GET /events): events after it are queued again for this webhook.',
    example: 'MTIzNDU6Njc',
    maxLength: 128,
  })
  @IsString()
  @MaxLength(128, { message: 'must be at most 128 characters' })
  after: string;

  @ApiPropertyOptional({ description: 'At most this many events are queued by one request; continue from `next_cursor`.', minimum: 1, maximum: MAX_REPLAY, default: MAX_REPLAY, type: 'integer' })
  @IsOptional()
  @IsInt({ message: 'must be an integer from 1 to 10000' })
  @Min(1, { message: 'must be an integer from 1 to 10000' })
  @Max(MAX_REPLAY, { message: 'must be an integer from 1 to 10000' })
  limit?: number;
}

export class ReplayResultDto {
  @ApiProperty({ type: 'integer', description: 'Events matching the webhook\'s filters that were queued.', example: 12 })
  queued: number;
  @ApiProperty({ type: 'integer', description: 'Events read (matching or not).', example: 40 })
  scanned: number;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'Set when the limit was reached: replay again with this as `after` to continue. null: every event up to the dispatcher\'s position was considered.',
    example: null,
  })
  next_cursor: string | null;
}
