import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Etag } from '../common/http/etag.hook';
import { IfMatch } from '../common/http/if-match.decorator';
import { ApiProblemResponses } from '../common/openapi/api-problem-responses.decorator';
import { headerRef } from '../common/openapi/standard-components';
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
  @ApiOkResponse({
    type: VersionResponseDto,
    description: 'Already registered with this hash and version: the existing version; `Location` points at it.',
    headers: { Location: headerRef('Location') },
  })
  @ApiProblemResponses(400, 404, 409, 413, 415)
  async createVersion(@Body() dto: CreateVersionDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<VersionResponseDto> {
    const { version, created } = await this.versions.register(dto);
    void reply.status(created ? 201 : 200).header('location', `/versions/${version.id}`);
    return version;
  }

  @Get()
  @RequireScope('registry:read', 'list')
  @ApiOperation({
    operationId: 'listVersions',
    summary: 'List versions (filtered, keyset-paginated)',
    description: 'Live and archived versions (narrow with `archived`). Pass `next_page_token` back as `page_token`, with the same sort and filters, for the next page.',
  })
  @ApiOkResponse({ type: VersionPageDto, description: 'One page of versions.' })
  @ApiProblemResponses(400)
  listVersions(@Query() query: ListVersionsQueryDto, @RestrictedModels() restriction?: ModelRestriction): Promise<VersionPageDto> {
    return this.versions.list(query, restriction);
  }

  @Get(':id')
  @Etag()
  @RequireScope('registry:read', [ModelIn.versionId('params', 'id')])
  @ApiOperation({
    operationId: 'getVersion',
    summary: 'Get a version by id (archived versions included)',
    description: 'The version with the aliases pointing at it. Send the ETag you hold in If-None-Match to get 304 while it is unchanged.',
  })
  @ApiOkResponse({ type: VersionResponseDto, description: 'The version.' })
  @ApiProblemResponses(400, 404)
  getVersion(@Param() { id }: IdParamDto): Promise<VersionResponseDto> {
    return this.versions.get(id);
  }

  @Put(':id')
  @Etag()
  @RequireScope('registry:manage', [ModelIn.versionId('params', 'id')])
  @ApiOperation({
    operationId: 'updateVersion',
    summary: 'Update some fields of a version (model_id, hash and version are immutable)',
    description: 'Only the fields sent change; nullable fields are cleared with null. model_id, hash and version may be sent only with their current values; archive_uri is set by retention only (a request may echo its current value); the artifact_uri of an archived version cannot change (409). With If-Match, the update is made only if the version is unchanged since you read it.',
  })
  @ApiOkResponse({ type: VersionResponseDto, description: 'The updated version.' })
  @ApiProblemResponses(400, 404, 409, 413, 415)
  updateVersion(@Param() { id }: IdParamDto, @Body() dto: UpdateVersionDto, @IfMatch() ifMatch?: string): Promise<VersionResponseDto> {
    return this.versions.update(id, dto, ifMatch);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScope('registry:manage', [ModelIn.versionId('params', 'id')])
  @ApiOperation({
    operationId: 'deleteVersion',
    summary: 'Delete a version with its bindings (409 while a binding is active)',
    description: 'Deletes the version and its bindings in one transaction. An aliased version (409 listing aliases) or one with an active binding (409 listing active_binding_ids) cannot be deleted.',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiProblemResponses(400, 404, 409)
  deleteVersion(@Param() { id }: IdParamDto, @IfMatch() ifMatch?: string): Promise<void> {
    return this.versions.delete(id, ifMatch);
  }
}
