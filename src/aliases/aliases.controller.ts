import { Body, Controller, Delete, Get, HttpCode, Param, Put, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Etag } from '../common/http/etag.hook';
import { IfMatch } from '../common/http/if-match.decorator';
import { ApiProblemResponses } from '../common/openapi/api-problem-responses.decorator';
import { IdParamDto } from '../common/validation/id-param.dto';
import { AliasParamsDto, AliasResponseDto, SetAliasDto } from './dto/alias.dto';
import { AliasesService } from './aliases.service';
import { RequireScope, ModelIn } from '../common/auth/access.decorator';

@ApiTags('aliases')
@Controller('models/:id/aliases')
export class AliasesController {
  constructor(private readonly aliases: AliasesService) {}

  @Get()
  @RequireScope('registry:read', [ModelIn.modelId('params', 'id')])
  @ApiOperation({ operationId: 'listModelAliases', summary: "A model's aliases", description: 'Every alias of the model, by name. An unknown model is a 404.' })
  @ApiOkResponse({ type: [AliasResponseDto], description: "The model's aliases." })
  @ApiProblemResponses(400, 404)
  listModelAliases(@Param() { id }: IdParamDto): Promise<AliasResponseDto[]> {
    return this.aliases.list(id);
  }

  @Get(':alias')
  @Etag()
  @RequireScope('registry:read', [ModelIn.modelId('params', 'id')])
  @ApiOperation({ operationId: 'getModelAlias', summary: 'One alias', description: 'The version an alias points at. A model without this alias is a 404.' })
  @ApiOkResponse({ type: AliasResponseDto, description: 'The alias.' })
  @ApiProblemResponses(400, 404)
  getModelAlias(@Param() { id, alias }: AliasParamsDto): Promise<AliasResponseDto> {
    return this.aliases.get(id, alias);
  }

  @Put(':alias')
  @Etag()
  @RequireScope('registry:manage', [ModelIn.modelId('params', 'id')])
  @ApiOperation({
    operationId: 'setModelAlias',
    summary: 'Point an alias at a live version (creates it, or moves it atomically)',
    description:
      'An aliased version is protected from retention and cannot be deleted while aliased. With If-Match (the ETag of `GET /models/{id}/aliases/{alias}`) ' +
      'the move happens only if the alias is still as it was read: a 412 with its current ETag if it moved meanwhile, a 404 if it does not exist.',
  })
  @ApiCreatedResponse({ type: AliasResponseDto, description: 'The alias was created.' })
  @ApiOkResponse({ type: AliasResponseDto, description: 'The alias was moved (or already pointed there).' })
  @ApiProblemResponses(400, 404, 409, 413, 415)
  async setModelAlias(
    @Param() { id, alias }: AliasParamsDto,
    @Body() dto: SetAliasDto,
    @Res({ passthrough: true }) reply: FastifyReply,
    @IfMatch() ifMatch?: string,
  ): Promise<AliasResponseDto> {
    const result = await this.aliases.set(id, alias, dto.version_id, ifMatch);
    void reply.status(result.created ? 201 : 200);
    if (result.created) void reply.header('location', `/models/${id}/aliases/${alias}`);
    return result.alias;
  }

  @Delete(':alias')
  @HttpCode(204)
  @RequireScope('registry:manage', [ModelIn.modelId('params', 'id')])
  @ApiOperation({ operationId: 'deleteModelAlias', summary: 'Remove an alias', description: 'The version it pointed at is no longer protected from retention by it.' })
  @ApiNoContentResponse({ description: 'Removed.' })
  @ApiProblemResponses(400, 404)
  deleteModelAlias(@Param() { id, alias }: AliasParamsDto): Promise<void> {
    return this.aliases.delete(id, alias);
  }
}
