import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Etag } from '../common/http/etag.hook';
import { ApiProblemResponses } from '../common/openapi/api-problem-responses.decorator';
import { IF_MATCH_HEADER, IF_NONE_MATCH_HEADER } from '../common/openapi/conditional-headers';
import { IdParamDto } from '../common/validation/id-param.dto';
import { CreateVersionDto } from './dto/create-version.dto';
import { ListVersionsQueryDto } from './dto/list-versions-query.dto';
import { UpdateVersionDto } from './dto/update-version.dto';
import { VersionPageDto, VersionResponseDto } from './dto/version-response.dto';
import { VersionsService } from './versions.service';
import { ModelIn, RequireScope, RestrictedModels } from '../common/auth/access.decorator';
import type { ModelRestriction } from '../common/auth/model-patterns';

@ApiTags('versions')
@Controller('versions')
export class VersionsController {
  constructor(private readonly versions: VersionsService) {}

  @Post()
  @Etag()
  @RequireScope('registry:write', [ModelIn.modelId('body', 'model_id')])
  @ApiOperation({
    operationId: 'createVersion',
    summary: 'Register a version (idempotent)',
    description:
      'Registering the same (model_id, hash, version) again answers 200 with the existing version. ' +
      'The same version with another hash, or the same hash under another version, is a 409 naming the field.',
  })
  @ApiCreatedResponse({ type: VersionResponseDto, description: 'Created; `Location` points at it.' })
  @ApiOkResponse({ type: VersionResponseDto, description: 'Already registered with this hash and version: the existing version.' })
  @ApiProblemResponses(400, 404, 409, 413, 415)
  async createVersion(@Body() dto: CreateVersionDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<VersionResponseDto> {
    const { version, created } = await this.versions.register(dto);
    void reply.status(created ? 201 : 200).header('location', `/versions/${version.id}`);
    return version;
  }

  @Get()
  @RequireScope('registry:read', 'list')
  @ApiOperation({ operationId: 'listVersions', summary: 'List versions (filtered, keyset-paginated)' })
  @ApiOkResponse({ type: VersionPageDto })
  @ApiProblemResponses(400)
  listVersions(@Query() query: ListVersionsQueryDto, @RestrictedModels() restriction?: ModelRestriction): Promise<VersionPageDto> {
    return this.versions.list(query, restriction);
  }

  @Get(':id')
  @Etag()
  @RequireScope('registry:read', [ModelIn.versionId('params', 'id')])
  @ApiOperation({ operationId: 'getVersion', summary: 'Get a version by id (archived versions included)' })
  @ApiHeader(IF_NONE_MATCH_HEADER)
  @ApiOkResponse({ type: VersionResponseDto })
  @ApiProblemResponses(400, 404)
  getVersion(@Param() { id }: IdParamDto): Promise<VersionResponseDto> {
    return this.versions.get(id);
  }

  @Put(':id')
  @Etag()
  @RequireScope('registry:manage', [ModelIn.versionId('params', 'id')])
  @ApiOperation({ operationId: 'updateVersion', summary: 'Update some fields of a version (model_id, hash and version are immutable)' })
  @ApiHeader(IF_MATCH_HEADER)
  @ApiOkResponse({ type: VersionResponseDto })
  @ApiProblemResponses(400, 404, 412, 413, 415)
  updateVersion(@Param() { id }: IdParamDto, @Body() dto: UpdateVersionDto, @Headers('if-match') ifMatch?: string): Promise<VersionResponseDto> {
    return this.versions.update(id, dto, ifMatch);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScope('registry:manage', [ModelIn.versionId('params', 'id')])
  @ApiOperation({ operationId: 'deleteVersion', summary: 'Delete a version with its bindings (409 while a binding is active)' })
  @ApiHeader(IF_MATCH_HEADER)
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiProblemResponses(400, 404, 409, 412)
  deleteVersion(@Param() { id }: IdParamDto, @Headers('if-match') ifMatch?: string): Promise<void> {
    return this.versions.delete(id, ifMatch);
  }
}
