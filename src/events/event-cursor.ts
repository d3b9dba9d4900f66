import { RequestValidationError } from '../common/errors/application.error';

/** A position in the change feed: after the event (tx_id, id). Transaction ids are xid8 (64-bit), kept as text. */
export interface EventCursor {
  txId: string;
  id: number;
}

export const FEED_START: EventCursor = { txId: '0', id: 0 };

export function encodeCursor(cursor: EventCursor): string {
  return Buffer.from(`${cursor.txId}:${cursor.id}`).toString('base64url');
}

/** `field` names where the cursor came from in a validation error (`after`, or the Last-Event-ID header). */
export function decodeCursor(text: string, field = 'after'): EventCursor {
  const decoded = /^[A-Za-z0-9_-]{1,64}$/.test(text) ? Buffer.from(text, 'base64url').toString('utf8') : '';
  const match = /^(\d{1,20}):(\d{1,16})$/.exec(decoded);
  if (!match || !Number.isSafeInteger(Number(match[2]))) {
    throw new RequestValidationError([{ field, message: 'is not a cursor from this feed (use a next_cursor or a cursor of an event, or "now")' }]);
  }
  return { txId: match[1], id: Number(match[2]) };
}
