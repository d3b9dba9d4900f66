import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblemResponses } from '../common/openapi/api-problem-responses.decorator';
import { EventPageDto, EventsQueryDto } from './dto/event.dto';
import { EventsService } from './events.service';
import { RequireScope, RestrictedModels } from '../common/auth/access.decorator';
import type { ModelRestriction } from '../common/auth/model-patterns';

@ApiTags('gateway')
@Controller('events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get()
  @RequireScope('registry:read', 'list')
  @ApiOperation({
    operationId: 'listEvents',
    summary: 'The change feed: every change to models, versions, bindings and aliases, after a cursor',
    description:
      'Events are written in the same transaction as the change (a rolled-back change has none) and appear once committed, grouped by transaction, in transaction order; ' +
      'a reader that continues from next_cursor never misses or repeats one. Usage reports do not produce events. A cursor older than pruning (EVENTS_RETENTION_DAYS) is a 410.',
  })
  @ApiOkResponse({ type: EventPageDto })
  @ApiProblemResponses(400, 410)
  listEvents(@Query() query: EventsQueryDto, @RestrictedModels() restriction?: ModelRestriction): Promise<EventPageDto> {
    return this.events.page(query.after, query.limit, restriction);
  }
}
