import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { RequireScope } from '../common/auth/access.decorator';
import { Etag } from '../common/http/etag.hook';
import { IfMatch } from '../common/http/if-match.decorator';
import { ApiProblemResponses } from '../common/openapi/api-problem-responses.decorator';
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
  @RequireScope('admin', 'none')
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
  @RequireScope('admin', 'none')
  @ApiOperation({
    operationId: 'listWebhooks',
    summary: 'List webhook subscriptions (keyset-paginated)',
    description: 'Oldest first by default (`sort=-created_at` for newest first); filters `enabled` and `model_id`. Secrets are never listed.',
  })
  @ApiOkResponse({ type: WebhookPageDto, description: 'A page of subscriptions (never their secrets).' })
  @ApiProblemResponses(400)
  listWebhooks(@Query() query: ListWebhooksQueryDto): Promise<WebhookPageDto> {
    return this.webhooks.list(query);
  }

  @Get(':id')
  @RequireScope('admin', 'none')
  @Etag()
  @ApiOperation({
    operationId: 'getWebhook',
    summary: 'One webhook subscription (never its secret)',
    description: 'Its URL, filters, state (enabled, disabled_reason, failing_since, pending deliveries) and how long a rotated-out secret still signs; the secret itself is shown only when created or rotated.',
  })
  @ApiOkResponse({ type: WebhookResponseDto, description: 'The subscription.' })
  @ApiProblemResponses(400, 404)
  getWebhook(@Param() { id }: WebhookIdParamDto): Promise<WebhookResponseDto> {
    return this.webhooks.get(id);
  }

  @Put(':id')
  @RequireScope('admin', 'none')
  @Etag()
  @ApiOperation({
    operationId: 'updateWebhook',
    summary: 'Change some fields of a subscription',
    description: 'Filters apply to events dispatched from now on. `enabled: true` resumes a disabled subscription (also one the service disabled) with the events after that moment.',
  })
  @ApiOkResponse({ type: WebhookResponseDto, description: 'The updated subscription.' })
  @ApiProblemResponses(400, 404, 413, 415)
  updateWebhook(@Param() { id }: WebhookIdParamDto, @Body() dto: UpdateWebhookDto, @IfMatch() ifMatch?: string): Promise<WebhookResponseDto> {
    return this.webhooks.update(id, dto, ifMatch);
  }

  @Delete(':id')
  @RequireScope('admin', 'none')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'deleteWebhook',
    summary: 'Delete a subscription and its delivery log (queued deliveries are dropped)',
    description: 'With If-Match, deleted only if unchanged since you read it. A delivery being sent at that moment may still arrive.',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiProblemResponses(400, 404)
  deleteWebhook(@Param() { id }: WebhookIdParamDto, @IfMatch() ifMatch?: string): Promise<void> {
    return this.webhooks.delete(id, ifMatch);
  }

  @Post(':id/rotate-secret')
  @RequireScope('admin', 'none')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'rotateWebhookSecret',
    summary: 'Replace the signing secret',
    description: 'The new secret (in this answer only) signs from now on; for 24 h deliveries carry a second `v1,` signature made with the old one, so receivers can switch without losing a message.',
  })
  @ApiOkResponse({ type: WebhookWithSecretDto, description: 'The subscription with its new secret, shown this once.' })
  @ApiProblemResponses(400, 404)
  async rotateWebhookSecret(@Param() { id }: WebhookIdParamDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<WebhookWithSecretDto> {
    void reply.header('cache-control', 'no-store');
    return this.webhooks.rotateSecret(id);
  }

  @Post(':id/test')
  @RequireScope('admin', 'none')
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
  @RequireScope('admin', 'none')
  @ApiOperation({
    operationId: 'listWebhookDeliveries',
    summary: 'The delivery log of a subscription (newest first, keyset-paginated)',
    description: 'Each delivery with its status, attempts, last response code and body (at most 1 KiB), duration and next attempt; filter by `status`.',
  })
  @ApiOkResponse({ type: WebhookDeliveryPageDto, description: 'A page of deliveries, newest first.' })
  @ApiProblemResponses(400, 404)
  listWebhookDeliveries(@Param() { id }: WebhookIdParamDto, @Query() query: ListDeliveriesQueryDto): Promise<WebhookDeliveryPageDto> {
    return this.webhooks.listDeliveries(id, query);
  }

  @Get(':id/deliveries/:delivery_id')
  @RequireScope('admin', 'none')
  @ApiOperation({ operationId: 'getWebhookDelivery', summary: 'One delivery', description: 'A delivery of this subscription, as in the log.' })
  @ApiOkResponse({ type: WebhookDeliveryDto, description: 'The delivery.' })
  @ApiProblemResponses(400, 404)
  getWebhookDelivery(@Param() { id, delivery_id }: DeliveryParamsDto): Promise<WebhookDeliveryDto> {
    return this.webhooks.getDelivery(id, delivery_id);
  }

  @Post(':id/deliveries/:delivery_id/retry')
  @RequireScope('admin', 'none')
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
  @RequireScope('admin', 'none')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'replayWebhook',
    summary: 'Queue again the events after a feed cursor',
    description:
      'Events after `after` that match the subscription\'s filters — also from before it was created — are queued again (origin `replay`, same `webhook-id` as before), ' +
      'up to the dispatcher\'s position; events still queued are not queued twice. A cursor older than pruning is a 410.',
  })
  @ApiAcceptedResponse({ type: ReplayResultDto, description: 'How many events were queued again.' })
  @ApiProblemResponses(400, 404, 410, 413, 415)
  replayWebhook(@Param() { id }: WebhookIdParamDto, @Body() dto: ReplayWebhookDto): Promise<ReplayResultDto> {
    return this.webhooks.replay(id, dto);
  }
}
