import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Direct } from '../common/http/direct-routes';
import { Etag } from '../common/http/etag.hook';
import { IfMatch } from '../common/http/if-match.decorator';
import { ApiProblemResponses } from '../common/openapi/api-problem-responses.decorator';
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
  @ApiOperation({
    operationId: 'createModel',
    summary: 'Register a model',
    description: 'Names are unique: a second model with the same name is a 409. The answer carries the model with its ETag, and Location points at it.',
  })
  @ApiCreatedResponse({ type: ModelResponseDto, description: 'Created; `Location` points at it.' })
  @ApiProblemResponses(400, 409, 413, 415)
  async createModel(@Body() dto: CreateModelDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<ModelResponseDto> {
    const model = await this.models.create(dto);
    void reply.header('location', `/models/${model.id}`);
    return model;
  }

  @Get()
  @RequireScope('registry:read', 'list')
  @ApiOperation({
    operationId: 'listModels',
    summary: 'List models (filtered, keyset-paginated)',
    description: 'Pages of at most `limit` models in a stable order; pass `next_page_token` back as `page_token` (with the same sort and filters) for the next page.',
  })
  @ApiOkResponse({ type: ModelPageDto, description: 'One page of models.' })
  @ApiProblemResponses(400)
  listModels(@Query() query: ListModelsQueryDto, @RestrictedModels() restriction?: ModelRestriction): Promise<ModelPageDto> {
    return this.models.list(query, restriction);
  }

  @Get('name/:name')
  @Direct()
  @Etag()
  @RequireScope('registry:read', [ModelIn.modelName('params', 'name')])
  @ApiOperation({
    operationId: 'getModelByName',
    summary: 'Get a model by its unique name',
    description: 'The same representation and ETag as GET /models/{id}.',
  })
  @ApiParam({ name: 'name', description: 'The model name.', example: 'gpt-4-turbo' })
  @ApiOkResponse({ type: ModelResponseDto, description: 'The model.' })
  @ApiProblemResponses(404)
  getModelByName(@Param('name') name: string): Promise<ModelResponseDto> {
    return this.models.getByName(name);
  }

  @Get(':id')
  @Direct()
  @Etag()
  @RequireScope('registry:read', [ModelIn.modelId('params', 'id')])
  @ApiOperation({
    operationId: 'getModel',
    summary: 'Get a model by id',
    description: 'The model with its aliases. Send the ETag you hold in If-None-Match to get 304 while it is unchanged.',
  })
  @ApiOkResponse({ type: ModelResponseDto, description: 'The model.' })
  @ApiProblemResponses(400, 404)
  getModel(@Param() { id }: IdParamDto): Promise<ModelResponseDto> {
    return this.models.get(id);
  }

  @Put(':id')
  @Etag()
  @RequireScope('registry:manage', [ModelIn.modelId('params', 'id'), ModelIn.modelName('body', 'name')])
  @ApiOperation({
    operationId: 'updateModel',
    summary: 'Update some fields of a model',
    description: 'Only the fields sent change; `description: null` clears the description. With If-Match, the update is made only if the model is unchanged since you read it.',
  })
  @ApiOkResponse({ type: ModelResponseDto, description: 'The updated model.' })
  @ApiProblemResponses(400, 404, 409, 413, 415)
  updateModel(@Param() { id }: IdParamDto, @Body() dto: UpdateModelDto, @IfMatch() ifMatch?: string): Promise<ModelResponseDto> {
    return this.models.update(id, dto, ifMatch);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireScope('registry:manage', [ModelIn.modelId('params', 'id')])
  @ApiOperation({
    operationId: 'deleteModel',
    summary: 'Delete a model with its versions and bindings (409 while a binding is active)',
    description: 'Deletes the model, its versions, bindings and aliases in one transaction. A model with an active binding may be receiving traffic: that is a 409 listing active_binding_ids.',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiProblemResponses(400, 404, 409)
  deleteModel(@Param() { id }: IdParamDto, @IfMatch() ifMatch?: string): Promise<void> {
    return this.models.delete(id, ifMatch);
  }
}
