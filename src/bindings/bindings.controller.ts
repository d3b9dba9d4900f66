import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Etag } from '../common/http/etag.hook';
import { ApiProblemResponses } from '../common/openapi/api-problem-responses.decorator';
import { IF_MATCH_HEADER, IF_NONE_MATCH_HEADER } from '../common/openapi/conditional-headers';
import { IdParamDto } from '../common/validation/id-param.dto';
import { writeAnnouncesItself } from '../events/local-writes';
import { BindingPageDto, BindingResponseDto } from './dto/binding-response.dto';
import { CreateBindingDto } from './dto/create-binding.dto';
import { ReportUsageDto } from './dto/report-usage.dto';
import { ListBindingsQueryDto } from './dto/list-bindings-query.dto';
import { UpdateBindingDto } from './dto/update-binding.dto';
import { BindingsService } from './bindings.service';

@ApiTags('bindings')
@Controller('bindings')
export class BindingsController {
  constructor(private readonly bindings: BindingsService) {}

  @Post()
  @Etag()
  @ApiOperation({ operationId: 'createBinding', summary: 'Bind a version to a provider model' })
  @ApiCreatedResponse({ type: BindingResponseDto, description: 'Created; `Location` points at it.' })
  @ApiProblemResponses(400, 404, 409, 413, 415)
  async createBinding(@Body() dto: CreateBindingDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<BindingResponseDto> {
    const binding = await this.bindings.create(dto);
    void reply.header('location', `/bindings/${binding.id}`);
    return binding;
  }

  @Get()
  @ApiOperation({ operationId: 'listBindings', summary: 'List provider bindings (filtered, keyset-paginated)' })
  @ApiOkResponse({ type: BindingPageDto })
  @ApiProblemResponses(400)
  listBindings(@Query() query: ListBindingsQueryDto): Promise<BindingPageDto> {
    return this.bindings.list(query);
  }

  @Get(':id')
  @Etag()
  @ApiOperation({ operationId: 'getBinding', summary: 'Get a provider binding by id' })
  @ApiHeader(IF_NONE_MATCH_HEADER)
  @ApiOkResponse({ type: BindingResponseDto })
  @ApiProblemResponses(400, 404)
  getBinding(@Param() { id }: IdParamDto): Promise<BindingResponseDto> {
    return this.bindings.get(id);
  }

  @Put(':id')
  @Etag()
  @ApiOperation({ operationId: 'updateBinding', summary: 'Update some fields of a binding (version_id is immutable)' })
  @ApiHeader(IF_MATCH_HEADER)
  @ApiOkResponse({ type: BindingResponseDto })
  @ApiProblemResponses(400, 404, 409, 412, 413, 415)
  updateBinding(@Param() { id }: IdParamDto, @Body() dto: UpdateBindingDto, @Headers('if-match') ifMatch?: string): Promise<BindingResponseDto> {
    return this.bindings.update(id, dto, ifMatch);
  }

  @Post(':id/usage')
  @HttpCode(200)
  @Etag()
  @ApiOperation({
    operationId: 'reportBindingUsage',
    summary: 'Report usage: one call, or a batch of up to 1,000',
    description:
      'Updates avg_latency_ms and success_rate as exponentially weighted moving averages (each sample: A ← (1 − α)·A + α·x, α = USAGE_EWMA_ALPHA; the first sample initialises A), ' +
      'and last_used_at, in one atomic update: concurrent reporters lose no sample. Usage does not produce change events.',
  })
  @ApiOkResponse({ type: BindingResponseDto })
  @ApiProblemResponses(400, 404, 413, 415)
  reportBindingUsage(@Param() { id }: IdParamDto, @Body() dto: ReportUsageDto, @Req() request: FastifyRequest): Promise<BindingResponseDto> {
    writeAnnouncesItself(request);
    return this.bindings.reportUsage(id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteBinding', summary: 'Delete a provider binding' })
  @ApiHeader(IF_MATCH_HEADER)
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiProblemResponses(400, 404, 412)
  deleteBinding(@Param() { id }: IdParamDto, @Headers('if-match') ifMatch?: string): Promise<void> {
    return this.bindings.delete(id, ifMatch);
  }
}
