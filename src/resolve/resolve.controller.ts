import { Controller, Get, Inject, Param, Query, Res } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Direct } from '../common/http/direct-routes';
import { Etag, serializedOnce } from '../common/http/etag.hook';
import { ApiProblemResponses } from '../common/openapi/api-problem-responses.decorator';
import { headerRef } from '../common/openapi/standard-components';
import { gatewayConfig } from '../config/gateway.config';
import { ResolveQueryDto } from './dto/resolve-query.dto';
import { ResolveResponseDto } from './dto/resolve-response.dto';
import { ResolveService } from './resolve.service';
import { RequireScope, ModelIn } from '../common/auth/access.decorator';

@ApiTags('gateway')
@Controller('resolve')
export class ResolveController {
  constructor(
    private readonly resolver: ResolveService,
    @Inject(gatewayConfig.KEY) private readonly config: ConfigType<typeof gatewayConfig>,
  ) {}

  @Get(':model_name')
  @Direct()
  @Etag()
  @RequireScope('registry:read', [ModelIn.modelName('params', 'model_name')])
  @ApiOperation({
    operationId: 'resolveModel',
    summary: 'Resolve a model to a version and its active bindings ranked for routing',
    description:
      'One database round trip. The version must be live and have at least one active binding (to `provider` when given) and meet every constraint. ' +
      'The answer carries an ETag derived from the data and Cache-Control max-age=RESOLVE_CACHE_MAX_AGE_S; If-None-Match gives 304. ' +
      'No match is a 404 that says which constraint excluded which versions.',
  })
  @ApiParam({ name: 'model_name', description: 'The model name.', example: 'gpt-4-turbo' })
  @ApiOkResponse({ type: ResolveResponseDto, description: 'The version chosen and its active bindings in routing order.', headers: { 'Cache-Control': headerRef('Cache-Control') } })
  @ApiProblemResponses(400, 404)
  async resolveModel(@Param('model_name') modelName: string, @Query() query: ResolveQueryDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<ResolveResponseDto | string> {
    const resolved = await this.resolver.resolve(modelName, query);
    void reply.header('cache-control', `max-age=${this.config.resolveCacheMaxAgeS}`);
    // With the cache on, an answer is sent many times unchanged: serialised and tagged once.
    return this.resolver.caching ? serializedOnce(reply, resolved) : resolved;
  }
}
