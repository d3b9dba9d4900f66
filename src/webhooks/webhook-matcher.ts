import type { EventCursor } from '../events/event-cursor';
import { matchesSelector, type Requirement } from '../common/labels/selector';
import { canonicalEventType } from '../events/dto/event.dto';

export const ALL_EVENTS = '*';

/** A subscription as the dispatcher matches it. */
export interface Subscription {
  id: number;
  events: readonly string[];
  modelId: number | null;
  /** A parsed label selector over the labels of the event's model (null: none). */
  selector: Requirement[] | null;
  /** Only events of transactions not yet committed in this snapshot are delivered (null: any). */
  start: TxSnapshot | null;
}

/** A PostgreSQL snapshot (`pg_current_snapshot()::text`: `xmin:xmax:xip,…`). */
export interface TxSnapshot {
  xmin: bigint;
  xmax: bigint;
  inProgress: ReadonlySet<bigint>;
}

export function parseSnapshot(text: string): TxSnapshot {
  const match = /^(\d+):(\d+):([\d,]*)$/.exec(text);
  if (!match) throw new Error(`not a transaction snapshot: ${JSON.stringify(text.slice(0, 40))}`);
  return { xmin: BigInt(match[1]), xmax: BigInt(match[2]), inProgress: new Set(match[3] === '' ? [] : match[3].split(',').map(BigInt)) };
}

/**
 * Whether transaction `txId` had completed when `snapshot` was taken (PostgreSQL's rule: below xmin, or
 * below xmax and not listed as in progress). Events only exist for committed transactions.
 */
export function committedBefore(snapshot: TxSnapshot, txId: string): boolean {
  const tx = BigInt(txId);
  return tx < snapshot.xmin || (tx < snapshot.xmax && !snapshot.inProgress.has(tx));
}

export interface FeedEvent {
  id: number;
  tx_id: string;
  type: string;
  model_id: number | null;
}

/** Feed order: by transaction id (64-bit, compared exactly), then event id. */
export function compareCursors(a: EventCursor, b: EventCursor): number {
  const tx = BigInt(a.txId) - BigInt(b.txId);
  if (tx !== 0n) return tx < 0n ? -1 : 1;
  return Math.sign(a.id - b.id);
}

/**
 * Whether `event` goes to `subscription`: committed after it was created, of a subscribed type, of its model if it
 * names one, and — with a selector — of a model whose labels match. `labelsOf` gives a model's labels,
 * or undefined when they are unknown (then a selector does not match: nothing is sent on a guess).
 */
export function subscriptionMatches(
  subscription: Subscription,
  event: FeedEvent,
  labelsOf: (modelId: number) => Readonly<Record<string, string>> | undefined,
): boolean {
  if (subscription.start && committedBefore(subscription.start, event.tx_id)) return false;
  if (!subscription.events.includes(ALL_EVENTS) && !subscription.events.some((type) => canonicalEventType(type) === event.type)) return false;
  if (subscription.modelId !== null && event.model_id !== subscription.modelId) return false;
  if (subscription.selector) {
    if (event.model_id === null) return false;
    const labels = labelsOf(event.model_id);
    return labels !== undefined && matchesSelector(subscription.selector, labels);
  }
  return true;
}
