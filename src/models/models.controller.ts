import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Etag } from '../common/http/etag.hook';
import { ApiProblemResponses } from '../common/openapi/api-problem-responses.decorator';
import { IF_MATCH_HEADER, IF_NONE_MATCH_HEADER } from '../common/openapi/conditional-headers';
import { IdParamDto } from '../common/validation/id-param.dto';
import { CreateModelDto } from './dto/create-model.dto';
import { ListModelsQueryDto } from './dto/list-models-query.dto';
import { ModelPageDto, ModelResponseDto } from './dto/model-response.dto';
import { UpdateModelDto } from './dto/update-model.dto';
import { ModelsService } from './models.service';
import { ModelIn, RequireScope, RestrictedModels } from '../common/auth/access.decorator';
import type { ModelRestriction } from '../common/auth/model-patterns';

@ApiTags('models')
@Controller('models')
export class ModelsController {
  constructor(private readonly models: ModelsService) {}

  @Post()
  @Etag()
  @RequireScope('registry:write', [ModelIn.modelName('body', 'name')])
  @ApiOperation({ operationId: 'createModel', summary: 'Register a model' })
  @ApiCreatedResponse({ type: ModelResponseDto, description: 'Created; `Location` points at it.' })
  @ApiProblemResponses(400, 409, 413, 415)
  async createModel(@Body() dto: CreateModelDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<ModelResponseDto> {
    const model = await this.models.create(dto);
    void reply.header('location', `/models/${model.id}`);
    return model;
  }

  @Get()
  @RequireScope('registry:read', 'list')
  @ApiOperation({ operationId: 'listModels', summary: 'List models (filtered, keyset-paginated)' })
  @ApiOkResponse({ type: ModelPageDto })
  @ApiProblemResponses(400)
  listModels(@Query() query: ListModelsQueryDto, @RestrictedModels() restriction?: ModelRestriction): Promise<ModelPageDto> {
    return this.models.list(query, restriction);
  }

  @Get('name/:name')
  @Etag()
  @RequireScope('registry:read', [ModelIn.modelName('params', 'name')])
  @ApiOperation({ operationId: 'getModelByName', summary: 'Get a model by its unique name' })
  @ApiParam({ name: 'name', example: 'gpt-4-turbo' })
  @ApiHeader(IF_NONE_MATCH_HEADER)
  @ApiOkResponse({ type: ModelResponseDto })
  @ApiProblemResponses(404)
  getModelByName(@Param('name') name: string): Promise<ModelResponseDto> {
    return this.models.getByName(name);
  }

  @Get(':id')
  @Etag()
  @RequireScope('registry:read', [ModelIn.modelId('params', 'id')])
  @ApiOperation({ operationId: 'getModel', summary: 'Get a model by id' })
  @ApiHeader(IF_NONE_MATCH_HEADER)
  @ApiOkResponse({ type: ModelResponseDto })
  @ApiProblemResponses(400, 404)
  getModel(@Param() { id }: IdParamDto): Promise<ModelResponseDto> {
    return this.models.get(id);
  }

  @Put(':id')
  @Etag()
  @RequireScope('registry:manage', [ModelIn.modelId('params', 'id'), ModelIn.modelName('body', 'name')])
  @ApiOperation({ operationId: 'updateModel', summary: 'Update some fields of a model' })
  @ApiHeader(IF_MATCH_HEADER)
  @ApiOkResponse({ type: ModelResponseDto })
  @ApiProblemResponses(400, 404, 409, 412, 413, 415)
  updateModel(@Param() { id }: IdParamDto, @Body() dto: UpdateModelDto, @Headers('if-match') ifMatch?: string): Promise<ModelResponseDto> {
    return this.models.update(id, dto, ifMatch);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScope('registry:manage', [ModelIn.modelId('params', 'id')])
  @ApiOperation({ operationId: 'deleteModel', summary: 'Delete a model with its versions and bindings (409 while a binding is active)' })
  @ApiHeader(IF_MATCH_HEADER)
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiProblemResponses(400, 404, 409, 412)
  deleteModel(@Param() { id }: IdParamDto, @Headers('if-match') ifMatch?: string): Promise<void> {
    return this.models.delete(id, ifMatch);
  }
}
