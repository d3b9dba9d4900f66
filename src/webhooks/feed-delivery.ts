import { EventDto } from '../events/dto/event.dto';
import { encodeCursor } from '../events/event-cursor';
import type { EventRow } from '../events/events.repository';
import type { NewDelivery } from './webhook-deliveries.repository';

/** The `webhook-id` of an event's message: the same for every subscription, attempt, retry and replay. */
export const messageIdOf = (eventId: number) => `evt_${eventId}`;

/** The body of a delivery: the event exactly as GET /events shows it. */
export const bodyOf = (event: EventRow) => JSON.stringify(EventDto.fromRow(event));

/** The delivery of one feed event to one subscription. */
export function deliveryOf(event: EventRow, webhookId: number, origin: 'feed' | 'replay', body = bodyOf(event)): NewDelivery {
  return {
    webhook_id: webhookId,
    origin,
    message_id: messageIdOf(event.id),
    event_id: event.id,
    event_type: event.type,
    event_cursor: encodeCursor({ txId: event.tx_id, id: event.id }),
    occurred_at: event.occurred_at,
    payload: body,
  };
}
