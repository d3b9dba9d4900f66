import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Etag } from '../common/http/etag.hook';
import { IfMatch } from '../common/http/if-match.decorator';
import { ApiProblemResponses } from '../common/openapi/api-problem-responses.decorator';
import { IdParamDto } from '../common/validation/id-param.dto';
import { writeAnnouncesItself } from '../events/local-writes';
import { BindingPageDto, BindingResponseDto } from './dto/binding-response.dto';
import { CreateBindingDto } from './dto/create-binding.dto';
import { ReportUsageDto } from './dto/report-usage.dto';
import { ListBindingsQueryDto } from './dto/list-bindings-query.dto';
import { UpdateBindingDto } from './dto/update-binding.dto';
import { BindingsService } from './bindings.service';
import { ModelIn, RequireScope, RestrictedModels } from '../common/auth/access.decorator';
import type { ModelRestriction } from '../common/auth/model-patterns';

@ApiTags('bindings')
@Controller('bindings')
export class BindingsController {
  constructor(private readonly bindings: BindingsService) {}

  @Post()
  @Etag()
  @RequireScope('registry:write', [ModelIn.versionId('body', 'version_id')])
  @ApiOperation({
    operationId: 'createBinding',
    summary: 'Bind a version to a provider model',
    description: 'Unique per (version, provider, provider_model_id): a duplicate is a 409. An archived version cannot get an active binding (409).',
  })
  @ApiCreatedResponse({ type: BindingResponseDto, description: 'Created; `Location` points at it.' })
  @ApiProblemResponses(400, 404, 409, 413, 415)
  async createBinding(@Body() dto: CreateBindingDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<BindingResponseDto> {
    const binding = await this.bindings.create(dto);
    void reply.header('location', `/bindings/${binding.id}`);
    return binding;
  }

  @Get()
  @RequireScope('registry:read', 'list')
  @ApiOperation({
    operationId: 'listBindings',
    summary: 'List provider bindings (filtered, keyset-paginated)',
    description: 'Pass `next_page_token` back as `page_token`, with the same sort and filters, for the next page.',
  })
  @ApiOkResponse({ type: BindingPageDto, description: 'One page of bindings.' })
  @ApiProblemResponses(400)
  listBindings(@Query() query: ListBindingsQueryDto, @RestrictedModels() restriction?: ModelRestriction): Promise<BindingPageDto> {
    return this.bindings.list(query, restriction);
  }

  @Get(':id')
  @Etag()
  @RequireScope('registry:read', [ModelIn.bindingId('params', 'id')])
  @ApiOperation({
    operationId: 'getBinding',
    summary: 'Get a provider binding by id',
    description: 'The binding with its usage figures. Send the ETag you hold in If-None-Match to get 304 while it is unchanged.',
  })
  @ApiOkResponse({ type: BindingResponseDto, description: 'The binding.' })
  @ApiProblemResponses(400, 404)
  getBinding(@Param() { id }: IdParamDto): Promise<BindingResponseDto> {
    return this.bindings.get(id);
  }

  @Put(':id')
  @Etag()
  @RequireScope('registry:manage', [ModelIn.bindingId('params', 'id')])
  @ApiOperation({
    operationId: 'updateBinding',
    summary: 'Update some fields of a binding (version_id is immutable)',
    description: 'Only the fields sent change; `config` is replaced whole. With If-Match, the update is made only if the binding is unchanged since you read it.',
  })
  @ApiOkResponse({ type: BindingResponseDto, description: 'The updated binding.' })
  @ApiProblemResponses(400, 404, 409, 413, 415)
  updateBinding(@Param() { id }: IdParamDto, @Body() dto: UpdateBindingDto, @IfMatch() ifMatch?: string): Promise<BindingResponseDto> {
    return this.bindings.update(id, dto, ifMatch);
  }

  @Post(':id/usage')
  @HttpCode(200)
  @Etag()
  @RequireScope('usage:report', [ModelIn.bindingId('params', 'id')])
  @ApiOperation({
    operationId: 'reportBindingUsage',
    summary: 'Report usage: one call, or a batch of up to 1,000',
    description:
      'Updates avg_latency_ms and success_rate as exponentially weighted moving averages (each sample: A ← (1 − α)·A + α·x, α = USAGE_EWMA_ALPHA; the first sample initialises A), ' +
      'and last_used_at, in one atomic update: concurrent reporters lose no sample. Usage does not produce change events.',
  })
  @ApiOkResponse({ type: BindingResponseDto, description: 'The binding with its updated usage figures.' })
  @ApiProblemResponses(400, 404, 413, 415)
  reportBindingUsage(@Param() { id }: IdParamDto, @Body() dto: ReportUsageDto, @Req() request: FastifyRequest): Promise<BindingResponseDto> {
    writeAnnouncesItself(request);
    return this.bindings.reportUsage(id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScope('registry:manage', [ModelIn.bindingId('params', 'id')])
  @ApiOperation({
    operationId: 'deleteBinding',
    summary: 'Delete a provider binding',
    description: 'With If-Match, the binding is deleted only if it is unchanged since you read it.',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiProblemResponses(400, 404)
  deleteBinding(@Param() { id }: IdParamDto, @IfMatch() ifMatch?: string): Promise<void> {
    return this.bindings.delete(id, ifMatch);
  }
}
