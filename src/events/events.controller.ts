import type { OutgoingHttpHeaders } from 'node:http';
import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiProblemResponses } from '../common/openapi/api-problem-responses.decorator';
import { EventPageDto, EventsQueryDto, EventStreamQueryDto } from './dto/event.dto';
import { EventStream } from './event-stream';
import { EventsService } from './events.service';
import { RequireScope, RestrictedModels } from '../common/auth/access.decorator';
import type { ModelRestriction } from '../common/auth/model-patterns';

const STREAM_EXAMPLE =
  'retry: 2000\n: change feed after MTIzOjQ1\n\n' +
  'id: MTI0OjQ2\ndata: {"id":46,"cursor":"MTI0OjQ2","type":"alias.set","occurred_at":"2026-11-30T10:00:00.000Z","model_id":1,"version_id":3,"binding_id":null,"alias":"production","data":{"previous_version_id":2}}\n\n' +
  ': heartbeat\n\n';

@ApiTags('gateway')
@Controller('events')
export class EventsController {
  constructor(
    private readonly events: EventsService,
    private readonly stream: EventStream,
  ) {}

  @Get()
  @RequireScope('registry:read', 'list')
  @ApiOperation({
    operationId: 'listEvents',
    summary: 'The change feed: every change to models, versions, bindings and aliases, after a cursor',
    description:
      'Events are written in the same transaction as the change (a rolled-back change has none) and appear once committed, grouped by transaction, in transaction order; ' +
      'a reader that continues from next_cursor never misses or repeats one. Usage reports do not produce events. A cursor older than pruning (EVENTS_RETENTION_DAYS) is a 410.',
  })
  @ApiOkResponse({ type: EventPageDto, description: 'The events after the cursor (possibly none) and the cursor to continue from.' })
  @ApiProblemResponses(400, 410)
  listEvents(@Query() query: EventsQueryDto, @RestrictedModels() restriction?: ModelRestriction): Promise<EventPageDto> {
    return this.events.page(query.after, query.limit, restriction);
  }

  @Get('stream')
  @RequireScope('registry:read', 'list')
  @ApiOperation({
    operationId: 'streamEvents',
    summary: 'The change feed pushed as Server-Sent Events, so a gateway keeps its routing table current without polling',
    description:
      'A `text/event-stream` of the same events as GET /events, in the same order, each as one message: `id:` is the event\'s cursor and `data:` its JSON. ' +
      'On reconnecting, an EventSource sends the last id as `Last-Event-ID`: the stream resumes right after it, with no gap and no repeat (a cursor older than pruning is a 410). ' +
      'Without it the stream starts after `after` (default `now`). `model` and `type` filter what is sent. ' +
      'A comment line (`: heartbeat`) is sent every EVENTS_STREAM_HEARTBEAT_S so proxies keep the connection open; events arrive within milliseconds of their commit. ' +
      'A subscriber that reads too slowly is disconnected and resumes; a full or shutting-down instance answers 503. ' +
      'A key restricted to some models receives only the events of models that match it.',
  })
  @ApiProduces('text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'The id of the last message received: resume right after it.', schema: { type: 'string', maxLength: 128 } })
  @ApiOkResponse({
    description: 'An endless stream of change events (and heartbeat comments) until the client or the server closes it.',
    content: { 'text/event-stream': { schema: { type: 'string', example: STREAM_EXAMPLE } } },
  })
  @ApiProblemResponses(400, 410, 503)
  async streamEvents(
    @Query() query: EventStreamQueryDto,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
    @RestrictedModels() restriction?: ModelRestriction,
  ): Promise<void> {
    const { after, filter } = await this.events.streamStart(request.headers['last-event-id'], query, restriction);
    // Checked again with nothing awaited until the subscriber is counted, so the maximum holds under a rush.
    this.stream.assertCapacity();
    // From here on the response is ours to write: headers set so far (request id, security headers) go first.
    reply.hijack();
    reply.raw.writeHead(200, {
      ...(reply.getHeaders() as OutgoingHttpHeaders),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    // HEAD gets the headers only (Fastify routes it here too).
    if (request.method === 'HEAD') reply.raw.end();
    else await this.stream.subscribe(reply.raw, after, filter);
  }
}
