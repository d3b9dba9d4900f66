import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Etag } from '../common/http/etag.hook';
import { ApiProblemResponses } from '../common/openapi/api-problem-responses.decorator';
import { IF_MATCH_HEADER, IF_NONE_MATCH_HEADER } from '../common/openapi/conditional-headers';
import { ListDeliveriesQueryDto, WebhookDeliveryDto, WebhookDeliveryPageDto } from './dto/delivery.dto';
import {
  CreateWebhookDto,
  DeliveryParamsDto,
  ListWebhooksQueryDto,
  ReplayResultDto,
  ReplayWebhookDto,
  UpdateWebhookDto,
  WebhookIdParamDto,
  WebhookPageDto,
  WebhookResponseDto,
  WebhookWithSecretDto,
} from './dto/webhook.dto';
import { WebhooksService } from './webhooks.service';

/** Managing webhooks needs the `admin` scope (every route here). */
@ApiTags('webhooks')
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({
    operationId: 'createWebhook',
    summary: 'Subscribe a URL to change-feed events',
    description:
      'Deliveries are signed Standard Webhooks POSTs of the feed\'s event objects, for events after the subscription was created, in feed order, retried for 24 h. ' +
      'The answer carries the signing `secret`, shown only this once.',
  })
  @ApiCreatedResponse({ type: WebhookWithSecretDto, description: 'Created; `Location` points at it.' })
  @ApiProblemResponses(400, 404, 413, 415)
  async createWebhook(@Body() dto: CreateWebhookDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<WebhookWithSecretDto> {
    const webhook = await this.webhooks.create(dto);
    void reply.header('location', `/webhooks/${webhook.id}`).header('cache-control', 'no-store');
    return webhook;
  }

  @Get()
  @ApiOperation({ operationId: 'listWebhooks', summary: 'List webhook subscriptions (keyset-paginated)' })
  @ApiOkResponse({ type: WebhookPageDto })
  @ApiProblemResponses(400)
  listWebhooks(@Query() query: ListWebhooksQueryDto): Promise<WebhookPageDto> {
    return this.webhooks.list(query);
  }

  @Get(':id')
  @Etag()
  @ApiOperation({ operationId: 'getWebhook', summary: 'One webhook subscription (never its secret)' })
  @ApiHeader(IF_NONE_MATCH_HEADER)
  @ApiOkResponse({ type: WebhookResponseDto })
  @ApiProblemResponses(400, 404)
  getWebhook(@Param() { id }: WebhookIdParamDto): Promise<WebhookResponseDto> {
    return this.webhooks.get(id);
  }

  @Put(':id')
  @Etag()
  @ApiOperation({
    operationId: 'updateWebhook',
    summary: 'Change some fields of a subscription',
    description: 'Filters apply to events dispatched from now on. `enabled: true` resumes a disabled subscription (also one the service disabled) with the events after that moment.',
  })
  @ApiHeader(IF_MATCH_HEADER)
  @ApiOkResponse({ type: WebhookResponseDto })
  @ApiProblemResponses(400, 404, 412, 413, 415)
  updateWebhook(@Param() { id }: WebhookIdParamDto, @Body() dto: UpdateWebhookDto, @Headers('if-match') ifMatch?: string): Promise<WebhookResponseDto> {
    return this.webhooks.update(id, dto, ifMatch);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteWebhook', summary: 'Delete a subscription and its delivery log (queued deliveries are dropped)' })
  @ApiHeader(IF_MATCH_HEADER)
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiProblemResponses(400, 404, 412)
  deleteWebhook(@Param() { id }: WebhookIdParamDto, @Headers('if-match') ifMatch?: string): Promise<void> {
    return this.webhooks.delete(id, ifMatch);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'rotateWebhookSecret',
    summary: 'Replace the signing secret',
    description: 'The new secret (in this answer only) signs from now on; for 24 h deliveries carry a second `v1,` signature made with the old one, so receivers can switch without losing a message.',
  })
  @ApiOkResponse({ type: WebhookWithSecretDto })
  @ApiProblemResponses(400, 404)
  async rotateWebhookSecret(@Param() { id }: WebhookIdParamDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<WebhookWithSecretDto> {
    void reply.header('cache-control', 'no-store');
    return this.webhooks.rotateSecret(id);
  }

  @Post(':id/test')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'testWebhook',
    summary: 'Send a webhook.test event now and report how the receiver answered',
    description: 'Sent at once (not behind queued deliveries; also when disabled), once, without retries; recorded in the delivery log. 409 if the signing secret cannot be decrypted.',
  })
  @ApiOkResponse({ type: WebhookDeliveryDto, description: 'The attempt: `status` delivered (2xx) or failed, with the response code, body and duration.' })
  @ApiProblemResponses(400, 404, 409)
  testWebhook(@Param() { id }: WebhookIdParamDto): Promise<WebhookDeliveryDto> {
    return this.webhooks.test(id);
  }

  @Get(':id/deliveries')
  @ApiOperation({ operationId: 'listWebhookDeliveries', summary: 'The delivery log of a subscription (newest first, keyset-paginated)' })
  @ApiOkResponse({ type: WebhookDeliveryPageDto })
  @ApiProblemResponses(400, 404)
  listWebhookDeliveries(@Param() { id }: WebhookIdParamDto, @Query() query: ListDeliveriesQueryDto): Promise<WebhookDeliveryPageDto> {
    return this.webhooks.listDeliveries(id, query);
  }

  @Get(':id/deliveries/:delivery_id')
  @ApiOperation({ operationId: 'getWebhookDelivery', summary: 'One delivery' })
  @ApiOkResponse({ type: WebhookDeliveryDto })
  @ApiProblemResponses(400, 404)
  getWebhookDelivery(@Param() { id, delivery_id }: DeliveryParamsDto): Promise<WebhookDeliveryDto> {
    return this.webhooks.getDelivery(id, delivery_id);
  }

  @Post(':id/deliveries/:delivery_id/retry')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'retryWebhookDelivery',
    summary: 'Queue a delivered or failed delivery again',
    description: 'A new delivery (origin `retry`) with the same `webhook-id` and body joins the end of the queue, with a fresh 24 h of retries.',
  })
  @ApiAcceptedResponse({ type: WebhookDeliveryDto, description: 'Queued: the new delivery.' })
  @ApiProblemResponses(400, 404, 409)
  retryWebhookDelivery(@Param() { id, delivery_id }: DeliveryParamsDto): Promise<WebhookDeliveryDto> {
    return this.webhooks.retryDelivery(id, delivery_id);
  }

  @Post(':id/replay')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'replayWebhook',
    summary: 'Queue again the events after a feed cursor',
    description:
      'Events after `after` that match the subscription\'s filters — also from before it was created — are queued again (origin `replay`, same `webhook-id` as before), ' +
      'up to the dispatcher\'s position; events still queued are not queued twice. A cursor older than pruning is a 410.',
  })
  @ApiAcceptedResponse({ type: ReplayResultDto })
  @ApiProblemResponses(400, 404, 410, 413, 415)
  replayWebhook(@Param() { id }: WebhookIdParamDto, @Body() dto: ReplayWebhookDto): Promise<ReplayResultDto> {
    return this.webhooks.replay(id, dto);
  }
}
