import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { ModelRestriction } from '../common/auth/model-patterns';
import { ApplicationError } from '../common/errors/application.error';
import { gatewayConfig } from '../config/gateway.config';
import { canonicalEventType, EventDto, type EventPageDto, type EventStreamQueryDto } from './dto/event.dto';
import { decodeCursor, encodeCursor, FEED_START, type EventCursor } from './event-cursor';
import { EventStream, type StreamFilter } from './event-stream';
import { EventsRepository } from './events.repository';

@Injectable()
export class EventsService {
  private readonly logger = new Logger(EventsService.name);

  constructor(
    private readonly events: EventsRepository,
    private readonly stream: EventStream,
    @Inject(gatewayConfig.KEY) private readonly config: ConfigType<typeof gatewayConfig>,
  ) {}

  /**
   * `restriction`: a model-restricted caller sees the events of the models that match it now (the
   * events of a model deleted since are no longer attributable to a name, so they are left out).
   */
  async page(after: string | undefined, limit: number, restriction?: ModelRestriction): Promise<EventPageDto> {
    let cursor: EventCursor;
    if (after === 'now') {
      cursor = (await this.events.head()) ?? FEED_START;
    } else if (after === undefined) {
      cursor = FEED_START;
    } else {
      cursor = await this.resumable(decodeCursor(after));
    }
    const rows = await this.events.after(cursor, limit, restriction?.like);
    const last = rows[rows.length - 1];
    return { items: rows.map(EventDto.fromRow), next_cursor: encodeCursor(last ? { txId: last.tx_id, id: last.id } : cursor) };
  }

  /**
   * Where a push-stream subscriber starts, and what it wants: after its Last-Event-ID when it resumes,
   * else after `after` (default `now`). Throws the 400, 410 or 503 before anything is streamed.
   */
  async streamStart(
    lastEventId: string | string[] | undefined,
    query: EventStreamQueryDto,
    restriction?: ModelRestriction,
  ): Promise<{ after: EventCursor; filter: StreamFilter }> {
    this.stream.assertCapacity();
    const filter: StreamFilter = {
      models: query.model === undefined ? undefined : new Set(query.model.split(',').map(Number)),
      types: query.type === undefined ? undefined : new Set(query.type.split(',').map((type) => (type.endsWith('.*') ? type.slice(0, -2) : canonicalEventType(type)))),
      restriction,
    };
    const resumeFrom = Array.isArray(lastEventId) ? lastEventId[0] : lastEventId;
    let after: EventCursor;
    if (resumeFrom !== undefined && resumeFrom.trim() !== '') after = await this.resumable(decodeCursor(resumeFrom.trim(), 'Last-Event-ID'));
    else if (query.after === undefined || query.after === 'now') after = await this.stream.currentHead();
    else after = await this.resumable(decodeCursor(query.after));
    return { after, filter };
  }

  /** A cursor from before the pruned range may have missed events: 410. */
  private async resumable(cursor: EventCursor): Promise<EventCursor> {
    const pruned = await this.events.prunedThrough();
    if (pruned && (await this.events.isBefore(cursor, pruned))) {
      throw new ApplicationError('cursor-expired', 'Events after this cursor have been pruned. Re-read the state you cache, then continue from after=now.');
    }
    return cursor;
  }

  /** Deletes events older than EVENTS_RETENTION_DAYS (run by the nightly job). */
  async prune(): Promise<number> {
    const pruned = await this.events.prune(this.config.eventsRetentionDays);
    if (pruned > 0) this.logger.log({ pruned, older_than_days: this.config.eventsRetentionDays }, `pruned ${pruned} change-feed event(s)`);
    return pruned;
  }
}
