import type { ServerResponse } from 'node:http';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { metrics, type BatchObservableCallback } from '@opentelemetry/api';
import { ServiceUnavailableError } from '../common/errors/application.error';
import { gatewayConfig } from '../config/gateway.config';
import { EventDto } from './dto/event.dto';
import { encodeCursor, FEED_START, type EventCursor } from './event-cursor';
import type { ModelRestriction } from '../common/auth/model-patterns';
import { EventsRepository, type EventRow } from './events.repository';
import { RegistryChanges, type ChangedModels, type RegistryChangeListener } from './registry-changes';

/** Events kept in memory after the head, so that subscribers a little behind resume without a query. */
const RECENT_EVENTS = 2_000;
/** Events read per query, by the poller and by a subscriber catching up. */
const PAGE = 500;
/** A subscriber whose unsent output exceeds this is disconnected (it resumes with Last-Event-ID). */
export const MAX_BUFFERED_BYTES = 256 * 1024;
/** Fallback polls, in case a notification is missed: while notifications are heard, and while they are not. */
const POLL_MS = 1_000;
const POLL_WITHOUT_NOTIFICATIONS_MS = 250;
/** After finding committed events held behind the horizon, poll again this soon (doubling up to POLL_MS). */
const HELD_RETRY_MS = 20;

/** A position in the feed, comparable without PostgreSQL (xid8 values exceed 2^53: BigInt). */
interface Position {
  tx: bigint;
  id: number;
}

const positionOf = (cursor: EventCursor): Position => ({ tx: BigInt(cursor.txId), id: cursor.id });
const cursorOf = (position: Position): EventCursor => ({ txId: position.tx.toString(), id: position.id });
const compare = (a: Position, b: Position): number => (a.tx < b.tx ? -1 : a.tx > b.tx ? 1 : a.id - b.id);

interface StreamedEvent {
  position: Position;
  modelId: number | null;
  /** The model's current name (null once it is gone), for callers restricted to some models. */
  modelName: string | null;
  type: string;
  frame: string;
}

export interface StreamFilter {
  /** Only events about these models. */
  models?: ReadonlySet<number>;
  /** Only these types; a family such as `version` matches every `version.*` type. */
  types?: ReadonlySet<string>;
  /** The caller's model restriction (an API key created with `models`): only those models' events. */
  restriction?: ModelRestriction;
}

interface Subscriber {
  response: ServerResponse;
  /** Every event up to here has been considered (sent if it matched). */
  position: Position;
  filter: StreamFilter;
  live: boolean;
  closed: boolean;
}

function matches(filter: StreamFilter, event: StreamedEvent): boolean {
  if (filter.models && (event.modelId === null || !filter.models.has(event.modelId))) return false;
  if (filter.restriction && (event.modelName === null || !filter.restriction.allows(event.modelName))) return false;
  return !filter.types || filter.types.has(event.type) || filter.types.has(event.type.slice(0, event.type.indexOf('.')));
}

const drained = (response: ServerResponse) =>
  new Promise<void>((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });

/** One SSE message: `id` is the event's cursor, `data` the same JSON GET /events returns. */
function frameOf(row: EventRow, cursor: string): string {
  return `id: ${cursor}\ndata: ${JSON.stringify(EventDto.fromRow(row))}\n\n`;
}

/**
 * Fans the change feed out to Server-Sent Events subscribers. One poller per process reads each new
 * event once, woken by the database's notifications (a fallback poll covers a missed one), and writes
 * its frame, built once, to every subscriber whose filter matches: a thousand subscribers cost one
 * query per change, not a thousand. A subscriber that resumes from an older cursor first catches up
 * from the database, then joins the live fan-out at a position the recent-events window covers, so it
 * gets every event after its cursor exactly once. Memory is bounded: the window holds RECENT_EVENTS,
 * and a subscriber that reads too slowly to keep its backlog under MAX_BUFFERED_BYTES is disconnected
 * (it resumes with Last-Event-ID).
 */
@Injectable()
export class EventStream implements RegistryChangeListener, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(EventStream.name);
  private readonly subscribers = new Set<Subscriber>();
  /** The window: every event after `windowStart` up to `head`, in order. */
  private recent: StreamedEvent[] = [];
  private windowStart?: Position;
  private head?: Position;
  private starting?: Promise<void>;
  private startToken?: object;
  private pumping = false;
  private pumpAgain = false;
  private pollTimer?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  private heldRetryMs = HELD_RETRY_MS;
  private closing = false;
  private failing = false;
  private readonly stats = { reads: 0, events: 0, delivered: 0, dropped: 0 };
  private unsubscribe?: () => void;
  private readonly meter = metrics.getMeter('model-registry');
  private readonly subscriberGauge = this.meter.createObservableGauge('events.stream.subscribers', { description: 'Open GET /events/stream connections.' });
  private readonly readCounter = this.meter.createObservableCounter('events.stream.reads', { description: 'Change-feed queries made by the stream poller (one per wake-up, whatever the number of subscribers).' });
  private readonly eventCounter = this.meter.createObservableCounter('events.stream.events', { description: 'Change-feed events the stream poller read from the database.' });
  private readonly deliveredCounter = this.meter.createObservableCounter('events.stream.delivered', { description: 'Events written to stream subscribers.' });
  private readonly droppedCounter = this.meter.createObservableCounter('events.stream.dropped', { description: 'Subscribers disconnected for reading too slowly.' });

  constructor(
    private readonly events: EventsRepository,
    private readonly changes: RegistryChanges,
    @Inject(gatewayConfig.KEY) private readonly config: ConfigType<typeof gatewayConfig>,
  ) {}

  private readonly observe: BatchObservableCallback = (result) => {
    result.observe(this.subscriberGauge, this.subscribers.size);
    result.observe(this.readCounter, this.stats.reads);
    result.observe(this.eventCounter, this.stats.events);
    result.observe(this.deliveredCounter, this.stats.delivered);
    result.observe(this.droppedCounter, this.stats.dropped);
  };

  onModuleInit(): void {
    this.unsubscribe = this.changes.subscribe(this);
    this.meter.addBatchObservableCallback(this.observe, [this.subscriberGauge, this.readCounter, this.eventCounter, this.deliveredCounter, this.droppedCounter]);
  }

  /** Ends every stream at once, so shutdown does not wait on them; clients reconnect elsewhere. */
  onModuleDestroy(): void {
    this.closing = true;
    this.unsubscribe?.();
    this.meter.removeBatchObservableCallback(this.observe, [this.subscriberGauge, this.readCounter, this.eventCounter, this.deliveredCounter, this.droppedCounter]);
    for (const subscriber of [...this.subscribers]) this.close(subscriber);
    this.stop();
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Refuses a new subscriber when the instance is closing or full (a 503 before anything is sent). */
  assertCapacity(): void {
    if (this.closing) throw new ServiceUnavailableError('This instance is shutting down; reconnect to another one.');
    if (this.subscribers.size >= this.config.eventsStreamMaxSubscribers) {
      throw new ServiceUnavailableError(`This instance serves its maximum of ${this.config.eventsStreamMaxSubscribers} stream subscribers (EVENTS_STREAM_MAX_SUBSCRIBERS).`);
    }
  }

  /** The position new subscribers that ask for `now` start from. */
  async currentHead(): Promise<EventCursor> {
    await this.start();
    return cursorOf(this.head!);
  }

  /**
   * Streams every event after `after` that passes `filter` to `response`, whose SSE headers have been
   * sent. Resolves once the subscriber is live (or gone).
   */
  async subscribe(response: ServerResponse, after: EventCursor, filter: StreamFilter): Promise<void> {
    const subscriber: Subscriber = { response, position: positionOf(after), filter, live: false, closed: false };
    this.subscribers.add(subscriber);
    response.on('close', () => this.close(subscriber));
    response.on('error', () => this.close(subscriber));
    this.write(subscriber, `retry: 2000\n: change feed after ${encodeCursor(after)}\n\n`);
    this.ensureHeartbeat();
    try {
      await this.start();
      await this.catchUp(subscriber);
    } catch (error) {
      if (!this.failing) this.logger.warn({ err: error }, 'a stream subscriber could not catch up; closing it (it will resume)');
      this.close(subscriber);
    }
  }

  changed(_models: ChangedModels, origin: 'database' | 'local'): void {
    if (origin === 'database' && this.head) void this.pump();
  }

  connection(up: boolean): void {
    if (this.head) this.schedulePoll(up ? POLL_MS : POLL_WITHOUT_NOTIFICATIONS_MS);
  }

  /** Reads the database after the subscriber's position until the in-memory window covers it, then joins. */
  private async catchUp(subscriber: Subscriber): Promise<void> {
    while (!subscriber.closed) {
      if (compare(subscriber.position, this.windowStart!) >= 0) {
        this.deliver(subscriber, this.recent);
        subscriber.live = true;
        return;
      }
      const rows = await this.events.after(cursorOf(subscriber.position), PAGE);
      this.deliver(subscriber, rows.map((row) => this.toStreamed(row)));
      // Catching up goes as fast as the client reads, rather than outrunning it into a disconnect.
      if (subscriber.response.writableLength > MAX_BUFFERED_BYTES / 2) await drained(subscriber.response);
      // Released later than the poller's view (rare): wait for the horizon to catch up.
      if (rows.length < PAGE && compare(subscriber.position, this.windowStart!) < 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private start(): Promise<void> {
    if (!this.starting) {
      const token = {};
      this.startToken = token;
      const starting: Promise<void> = (async () => {
        const head = (await this.events.head()) ?? FEED_START;
        if (this.startToken !== token) return; // every subscriber left meanwhile
        this.head = positionOf(head);
        this.windowStart = this.head;
        this.recent = [];
        this.schedulePoll(this.changes.connected ? POLL_MS : POLL_WITHOUT_NOTIFICATIONS_MS);
      })();
      this.starting = starting;
      starting.catch(() => {
        if (this.starting === starting) this.starting = undefined;
      });
    }
    return this.starting;
  }

  /** With no subscriber left, nothing is read; the next one starts afresh from the head. */
  private stop(): void {
    clearTimeout(this.pollTimer);
    clearInterval(this.heartbeatTimer);
    this.pollTimer = undefined;
    this.heartbeatTimer = undefined;
    this.starting = undefined;
    this.startToken = undefined;
    this.head = undefined;
    this.windowStart = undefined;
    this.recent = [];
  }

  private schedulePoll(delayMs: number): void {
    clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => void this.pump(), delayMs);
    this.pollTimer.unref();
  }

  private ensureHeartbeat(): void {
    if (this.heartbeatTimer) return;
    this.heartbeatTimer = setInterval(() => {
      for (const subscriber of this.subscribers) this.write(subscriber, ': heartbeat\n\n');
    }, this.config.eventsStreamHeartbeatS * 1_000);
    this.heartbeatTimer.unref();
  }

  /** Reads every released event after the head, once, and fans it out. One at a time; a wake-up during a read reads again. */
  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    if (!this.head) return;
    if (this.subscribers.size === 0) {
      this.stop();
      return;
    }
    this.pumping = true;
    let held = false;
    try {
      do {
        this.pumpAgain = false;
        for (;;) {
          const head: Position | undefined = this.head;
          if (!head) return;
          this.stats.reads++;
          const rows = await this.events.after(cursorOf(head), PAGE);
          if (this.head !== head) return; // stopped meanwhile
          this.publish(rows.map((row) => this.toStreamed(row)));
          if (rows.length < PAGE) break;
        }
      } while (this.pumpAgain);
      held = this.subscribers.size > 0 && (await this.events.hasUnreleased());
      this.failing = false;
    } catch (error) {
      // Once per outage: the poll retries every second or faster.
      if (!this.failing) this.logger.warn({ err: error }, 'the event stream cannot read the change feed; retrying');
      this.failing = true;
    } finally {
      this.pumping = false;
    }
    if (!this.head) return;
    if (held) {
      this.schedulePoll(this.heldRetryMs);
      this.heldRetryMs = Math.min(this.heldRetryMs * 2, POLL_MS);
    } else {
      this.heldRetryMs = HELD_RETRY_MS;
      this.schedulePoll(this.changes.connected ? POLL_MS : POLL_WITHOUT_NOTIFICATIONS_MS);
    }
  }

  private toStreamed(row: EventRow): StreamedEvent {
    const cursor = { txId: row.tx_id, id: row.id };
    return { position: positionOf(cursor), modelId: row.model_id, modelName: row.model_name, type: row.type, frame: frameOf(row, encodeCursor(cursor)) };
  }

  /** Appends a page of new events to the window and sends it to every live subscriber. */
  private publish(page: StreamedEvent[]): void {
    const fresh = page.filter((event) => compare(event.position, this.head!) > 0);
    if (fresh.length === 0) return;
    this.stats.events += fresh.length;
    this.head = fresh[fresh.length - 1].position;
    this.recent.push(...fresh);
    if (this.recent.length > RECENT_EVENTS) this.windowStart = this.recent.splice(0, this.recent.length - RECENT_EVENTS).pop()!.position;
    for (const subscriber of this.subscribers) if (subscriber.live) this.deliver(subscriber, fresh);
  }

  /** Sends the events after the subscriber's position that pass its filter, in one write. */
  private deliver(subscriber: Subscriber, events: StreamedEvent[]): void {
    let text = '';
    for (const event of events) {
      if (compare(event.position, subscriber.position) <= 0) continue;
      subscriber.position = event.position;
      if (!matches(subscriber.filter, event)) continue;
      this.stats.delivered++;
      text += event.frame;
    }
    if (text !== '') this.write(subscriber, text);
  }

  private write(subscriber: Subscriber, text: string): void {
    if (subscriber.closed) return;
    subscriber.response.write(text);
    if (subscriber.response.writableLength > MAX_BUFFERED_BYTES) {
      this.stats.dropped++;
      this.close(subscriber, true);
    }
  }

  /** Ends a stream: cleanly (the client reconnects), or at once for one too slow to drain its backlog. */
  private close(subscriber: Subscriber, discardBacklog = false): void {
    if (subscriber.closed) return;
    subscriber.closed = true;
    this.subscribers.delete(subscriber);
    if (discardBacklog) subscriber.response.destroy();
    else if (!subscriber.response.writableEnded) subscriber.response.end();
    if (this.subscribers.size === 0) this.stop();
  }
}
