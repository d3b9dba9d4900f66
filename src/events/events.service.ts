import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { ModelRestriction } from '../common/auth/model-patterns';
import { ApplicationError } from '../common/errors/application.error';
import { gatewayConfig } from '../config/gateway.config';
import { EventDto, type EventPageDto } from './dto/event.dto';
import { decodeCursor, encodeCursor, FEED_START, type EventCursor } from './event-cursor';
import { EventsRepository } from './events.repository';

@Injectable()
export class EventsService {
  private readonly logger = new Logger(EventsService.name);

  constructor(
    private readonly events: EventsRepository,
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
      cursor = decodeCursor(after);
      const pruned = await this.events.prunedThrough();
      if (pruned && (await this.events.isBefore(cursor, pruned))) {
        throw new ApplicationError('cursor-expired', 'Events after this cursor have been pruned. Re-read the state you cache, then continue from after=now.');
      }
    }
    const rows = await this.events.after(cursor, limit, restriction?.like);
    const last = rows[rows.length - 1];
    return { items: rows.map(EventDto.fromRow), next_cursor: encodeCursor(last ? { txId: last.tx_id, id: last.id } : cursor) };
  }

  /** Deletes events older than EVENTS_RETENTION_DAYS (run by the nightly job). */
  async prune(): Promise<number> {
    const pruned = await this.events.prune(this.config.eventsRetentionDays);
    if (pruned > 0) this.logger.log({ pruned, older_than_days: this.config.eventsRetentionDays }, `pruned ${pruned} change-feed event(s)`);
    return pruned;
  }
}
