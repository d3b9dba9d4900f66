import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { RequireScope } from '../common/auth/access.decorator';
import { ApiProblemResponses } from '../common/openapi/api-problem-responses.decorator';
import { IdParamDto } from '../common/validation/id-param.dto';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyPageDto, ApiKeyResponseDto, CreateApiKeyDto, CreatedApiKeyDto, ListApiKeysQueryDto } from './dto/api-key.dto';

@ApiTags('security')
@Controller('api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @RequireScope('admin', 'none')
  @ApiOperation({
    operationId: 'createApiKey',
    summary: 'Create an API key (the key is shown once, in this answer)',
    description: 'The key is 256 random bits behind a visible prefix; the service stores only its SHA-256. `models` limits it to model-name globs.',
  })
  @ApiCreatedResponse({ type: CreatedApiKeyDto, description: 'Created; `Location` points at it. Store `key` now: it is never shown again.' })
  @ApiProblemResponses(400, 413, 415)
  async createApiKey(@Body() dto: CreateApiKeyDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<CreatedApiKeyDto> {
    const created = await this.keys.create(dto);
    void reply.header('location', `/api-keys/${created.id}`).header('cache-control', 'no-store');
    return created;
  }

  @Get()
  @RequireScope('admin', 'none')
  @ApiOperation({
    operationId: 'listApiKeys',
    summary: 'List API keys, revoked and expired ones included (never the keys themselves)',
    description: 'Each key with its name, visible prefix, scopes, model restriction, status, expiry and last use; newest first by default.',
  })
  @ApiOkResponse({ type: ApiKeyPageDto, description: 'A page of keys.' })
  @ApiProblemResponses(400)
  listApiKeys(@Query() query: ListApiKeysQueryDto): Promise<ApiKeyPageDto> {
    return this.keys.list(query.sort, query.limit, query.page_token);
  }

  @Get(':id')
  @RequireScope('admin', 'none')
  @ApiOperation({ operationId: 'getApiKey', summary: 'One API key (never the key itself)', description: 'The key is shown only once, when created; this shows its prefix, scopes, status and last use.' })
  @ApiOkResponse({ type: ApiKeyResponseDto, description: 'The key.' })
  @ApiProblemResponses(400, 404)
  getApiKey(@Param() { id }: IdParamDto): Promise<ApiKeyResponseDto> {
    return this.keys.get(id);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScope('admin', 'none')
  @ApiOperation({
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key',
    description: 'It stops working on every replica within a few seconds. The key stays listed, as revoked, for the audit log. Revoking it again changes nothing.',
  })
  @ApiNoContentResponse({ description: 'Revoked.' })
  @ApiProblemResponses(400, 404)
  revokeApiKey(@Param() { id }: IdParamDto): Promise<void> {
    return this.keys.revoke(id);
  }
}
