import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PageQueryDto } from '../../common/pagination/page-query.dto';
import type { DeliveryRow } from '../webhook-deliveries.repository';
import { DELIVERY_ORIGINS, DELIVERY_STATUSES, type DeliveryStatus } from '../webhook-delivery.entity';

export const DELIVERY_SORTS = ['-created_at', 'created_at'] as const;

export class ListDeliveriesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only deliveries in this state.', enum: DELIVERY_STATUSES, example: 'failed' })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES, { message: `must be one of ${DELIVERY_STATUSES.join(', ')}` })
  status?: DeliveryStatus;

  @ApiPropertyOptional({ description: 'Order; newest first by default. Ties are broken by id.', enum: DELIVERY_SORTS, default: '-created_at' })
  @IsOptional()
  @IsIn(DELIVERY_SORTS, { message: `must be one of ${DELIVERY_SORTS.join(', ')}` })
  sort: (typeof DELIVERY_SORTS)[number] = '-created_at';
}

export class WebhookDeliveryDto {
  @ApiProperty({ type: 'integer', example: 42 })
  id: number;
  @ApiProperty({ type: 'integer', example: 1 })
  webhook_id: number;
  @ApiProperty({
    enum: DELIVERY_STATUSES,
    description: '`pending`: waiting for its next attempt (or for earlier deliveries of this webhook); `sending`: an attempt is in progress; `delivered`: a 2xx was received; `failed`: given up.',
    example: 'delivered',
  })
  status: string;
  @ApiProperty({ enum: DELIVERY_ORIGINS, description: '`feed`: from the change feed; `replay` and `retry`: queued again by request; `test`: POST /webhooks/{id}/test.', example: 'feed' })
  origin: string;
  @ApiProperty({ description: 'The `webhook-id` header: the same for every attempt, retry and replay of the same event.', example: 'evt_1234' })
  message_id: string;
  @ApiProperty({ nullable: true, type: 'integer', description: 'The change-feed event (null for tests).', example: 1234 })
  event_id: number | null;
  @ApiProperty({ example: 'version.created' })
  event_type: string;
  @ApiProperty({ nullable: true, type: String, description: "The event's feed cursor (usable as `after` for GET /events and replay).", example: 'MTIzNDU6MTIzNA' })
  event_cursor: string | null;
  @ApiProperty({ format: 'date-time', description: 'When the event happened.' })
  occurred_at: string;
  @ApiProperty({ type: 'integer', description: 'Attempts made so far.', example: 1 })
  attempts: number;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', example: '2026-11-26T12:00:00.000Z' })
  last_attempt_at: string | null;
  @ApiProperty({ nullable: true, type: 'integer', description: 'HTTP status of the last attempt (null: no response).', example: 200 })
  last_response_code: number | null;
  @ApiProperty({ nullable: true, type: 'integer', description: 'Duration of the last attempt, in milliseconds.', example: 35 })
  last_duration_ms: number | null;
  @ApiProperty({ nullable: true, type: String, description: 'The first 1 KiB of the last response body.', example: 'ok', maxLength: 1024 })
  last_response_body: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Why the last attempt failed (HTTP status, timeout, connection or TLS error, blocked address).', example: null })
  last_error: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'When pending: the next attempt (not before earlier deliveries of the webhook are done).', example: null })
  next_attempt_at: string | null;
  @ApiProperty({ format: 'date-time', description: 'When it is given up if still not delivered (24 h after it was queued).' })
  give_up_at: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', example: '2026-11-26T12:00:00.000Z' })
  delivered_at: string | null;
  @ApiProperty({ format: 'date-time', description: 'When it was queued.' })
  created_at: string;

  static fromRow(row: DeliveryRow): WebhookDeliveryDto {
    const iso = (date: Date | null) => (date ? date.toISOString() : null);
    return {
      id: row.id,
      webhook_id: row.webhook_id,
      status: row.status,
      origin: row.origin,
      message_id: row.message_id,
      event_id: row.event_id,
      event_type: row.event_type,
      event_cursor: row.event_cursor,
      occurred_at: row.occurred_at.toISOString(),
      attempts: row.attempts,
      last_attempt_at: iso(row.last_attempt_at),
      last_response_code: row.last_response_code,
      last_duration_ms: row.last_duration_ms,
      last_response_body: row.last_response_body,
      last_error: row.last_error,
      next_attempt_at: row.status === 'pending' ? iso(row.next_attempt_at) : null,
      give_up_at: row.give_up_at.toISOString(),
      delivered_at: iso(row.delivered_at),
      created_at: row.created_at.toISOString(),
    };
  }
}

export class WebhookDeliveryPageDto {
  @ApiProperty({ type: [WebhookDeliveryDto] })
  items: WebhookDeliveryDto[];
  @ApiProperty({ description: 'Token for the next page, or null on the last page.', nullable: true, type: String, example: null })
  next_page_token: string | null;
}
