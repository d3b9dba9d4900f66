import { Body, Controller, Get, Headers, Module, Param, Post, Put, Query, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags, DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, MaxLength, Min } from 'class-validator';
import { Etag } from '../http/etag.hook';
import { IfMatch } from '../http/if-match.decorator';
import { MetricsAccess, Public, RequireScope } from '../auth/access.decorator';
import { IdParamDto } from '../validation/id-param.dto';
import { IsOptionalButNotNull } from '../validation/optional';
import { IsSlug } from '../validation/validators';
import { ApiProblemResponses } from './api-problem-responses.decorator';
import { refineDocument } from './document-rules';
import { PROBLEM_MODELS } from './problem-schemas';
import { collectRouteFacts } from './route-catalogue';

class PartDto {
  @ApiProperty({ description: 'Part name.', example: 'a' })
  @IsString()
  @IsSlug()
  name: string;
}

class CreateThingDto {
  @ApiProperty({ description: 'Name.', example: 'thing' })
  @IsString()
  @IsSlug()
  name: string;

  @ApiPropertyOptional({ description: 'Size.', default: 3, example: 3 })
  @IsOptionalButNotNull()
  @IsInt()
  @Min(1)
  size?: number;

  @ApiPropertyOptional({ description: 'Kind.', enum: ['a', 'b'], example: 'a' })
  @IsOptionalButNotNull()
  @IsIn(['a', 'b'])
  kind?: string;

  @ApiPropertyOptional({ description: 'Parts.', type: [PartDto] })
  @IsOptional()
  parts?: PartDto[];
}

class UpdateThingDto {
  @ApiPropertyOptional({ description: 'Size.', default: 3, example: 3 })
  @IsOptionalButNotNull()
  @IsInt()
  size?: number;
}

class ListThingsQueryDto {
  @ApiPropertyOptional({ description: 'Page size.', example: 10 })
  @IsOptional()
  @IsInt()
  @Min(1)
  limit?: number;
}

class ThingDto {
  @ApiProperty({ description: 'Id.', type: 'integer', example: 1 })
  id: number;
  @ApiProperty({ description: 'Name.', example: 'thing' })
  name: string;
  @ApiProperty({ description: 'State.', nullable: true, type: String, enum: ['on', 'off'], required: false })
  state?: string | null;
}

@ApiTags('things')
@Controller('things')
class ThingsController {
  @Post()
  @Etag()
  @RequireScope('registry:write', 'none')
  @ApiOperation({ operationId: 'createThing', summary: 'Create', description: 'Creates a thing.' })
  @ApiCreatedResponse({ type: ThingDto, description: 'Created.' })
  @ApiProblemResponses(400, 409)
  create(@Body() _dto: CreateThingDto): ThingDto {
    return { id: 1, name: 'x' };
  }

  @Get()
  @RequireScope('registry:read', 'list')
  @ApiOperation({ operationId: 'listThings', summary: 'List', description: 'Lists things.' })
  @ApiOkResponse({ type: [ThingDto], description: 'Things.' })
  @ApiProblemResponses(400)
  list(@Query() _query: ListThingsQueryDto): ThingDto[] {
    return [];
  }

  @Get(':id')
  @Etag()
  @RequireScope(['registry:read', 'admin'], 'none')
  @ApiOperation({ operationId: 'getThing', summary: 'Get', description: 'Reads a thing.' })
  @ApiOkResponse({ type: ThingDto, description: 'The thing.' })
  @ApiProblemResponses(400, 404)
  get(@Param() _params: IdParamDto): ThingDto {
    return { id: 1, name: 'x' };
  }

  @Put(':id')
  @Etag()
  @RequireScope('registry:manage', 'none')
  @ApiOperation({ operationId: 'updateThing', summary: 'Update', description: 'Updates a thing.' })
  @ApiOkResponse({ type: ThingDto, description: 'The thing.' })
  @ApiProblemResponses(400, 404)
  update(@Param() _params: IdParamDto, @Body() _dto: UpdateThingDto, @IfMatch() _ifMatch?: string): ThingDto {
    return { id: 1, name: 'x' };
  }
}

@ApiTags('things')
@Controller()
class OpenController {
  @Get('open')
  @Public()
  @ApiOperation({ operationId: 'getOpen', summary: 'Open', description: 'Anyone may call it.' })
  @ApiOkResponse({ type: ThingDto, description: 'A thing.' })
  get(): ThingDto {
    return { id: 1, name: 'x' };
  }

  @Get('metrics')
  @MetricsAccess()
  @ApiOperation({ operationId: 'getMetricsLike', summary: 'Metrics', description: 'Open unless a token is configured.' })
  @ApiOkResponse({ type: ThingDto, description: 'A thing.' })
  metrics(): ThingDto {
    return { id: 1, name: 'x' };
  }
}

async function documentOf(...controllers: Type[]): Promise<OpenAPIObject> {
  class FixtureModule {}
  Module({ controllers })(FixtureModule);
  const app = await NestFactory.create(FixtureModule, new FastifyAdapter(), { preview: true, logger: false, abortOnError: false });
  try {
    const config = new DocumentBuilder().setTitle('t').setVersion('1').addTag('things', 'Things.').build();
    return refineDocument(SwaggerModule.createDocument(app, config, { extraModels: PROBLEM_MODELS }), collectRouteFacts(app));
  } finally {
    await app.close();
  }
}

describe('OpenAPI document rules', () => {
  let sut: OpenAPIObject;
  const schema = (name: string) => sut.components!.schemas![name] as Record<string, any>;
  const operation = (path: string, method: 'get' | 'post' | 'put') => sut.paths[path][method] as Record<string, any>;

  beforeAll(async () => {
    sut = await documentOf(ThingsController, OpenController);
  });

  it('takes request constraints from the validators the server runs', () => {
    expect(schema('CreateThing').properties.name).toMatchObject({ type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$', maxLength: 64 });
    expect(schema('CreateThing').properties.size).toMatchObject({ type: 'integer', minimum: 1 });
    expect(schema('Part').properties.name).toMatchObject({ pattern: '^[a-z0-9][a-z0-9_-]*$' });
    expect(operation('/things', 'get').parameters[0]).toMatchObject({ name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1 } });
    expect(operation('/things/{id}', 'get').parameters[0]).toMatchObject({ name: 'id', in: 'path', schema: { type: 'integer', minimum: 1 } });
  });

  it('closes request bodies, and keeps server defaults out of their schemas', () => {
    expect(schema('CreateThing').additionalProperties).toBe(false);
    expect(schema('Part').additionalProperties).toBe(false);
    expect(schema('Thing').additionalProperties).toBeUndefined();
    expect(schema('CreateThing').properties.size).not.toHaveProperty('default');
    expect(schema('CreateThing').properties.size.description).toBe('Size. Default: `3`.');
    expect(schema('UpdateThing').properties.size).toEqual({ type: 'integer', description: 'Size.', example: 3 });
  });

  it('documents @Etag(): ETag on 2xx bodies, If-None-Match and 304 on GET', () => {
    expect(operation('/things/{id}', 'get').responses['200'].headers.ETag).toEqual({ $ref: '#/components/headers/ETag' });
    expect(operation('/things/{id}', 'get').responses['304']).toEqual({ $ref: '#/components/responses/NotModified' });
    expect(operation('/things/{id}', 'get').parameters).toContainEqual({ $ref: '#/components/parameters/IfNoneMatch' });
    expect(operation('/things', 'post').responses['201'].headers).toMatchObject({ ETag: {}, Location: {} });
    expect(operation('/things', 'post').responses['304']).toBeUndefined();
    expect(operation('/things', 'get').responses['304']).toBeUndefined();
  });

  it('documents @IfMatch() once, optional, with a 412', () => {
    const update = operation('/things/{id}', 'put');
    expect(update.parameters.filter((p: Record<string, string>) => p.in === 'header' || p.$ref?.includes('If'))).toEqual([{ $ref: '#/components/parameters/IfMatch' }]);
    expect(sut.components!.parameters!.IfMatch).toMatchObject({ name: 'If-Match', in: 'header', required: false });
    expect(update.responses['412']).toEqual({ $ref: '#/components/responses/PreconditionFailed' });
    expect(schema('PreconditionFailedProblem').required).toContain('current_etag');
  });

  it('documents each route access declaration: bearer token and scopes, open routes, optional tokens, rate limits', () => {
    expect(sut.security).toEqual([{ bearerAuth: [] }]);
    expect(sut.components!.securitySchemes!.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(operation('/things/{id}', 'get').responses).toMatchObject({ '401': {}, '403': {}, '429': {} });
    expect(operation('/things/{id}', 'get')['x-required-scopes']).toEqual(['registry:read', 'admin']);
    expect(operation('/things', 'post')['x-required-scopes']).toEqual(['registry:write']);
    expect(operation('/open', 'get').security).toEqual([]);
    expect(operation('/open', 'get')).not.toHaveProperty('x-required-scopes');
    expect(Object.keys(operation('/open', 'get').responses)).toEqual(['200', '429', '500', '503']);
    // /metrics: open unless METRICS_TOKEN is set, so the token is optional; never rate limited.
    expect(operation('/metrics', 'get').security).toEqual([{}, { bearerAuth: [] }]);
    expect(Object.keys(operation('/metrics', 'get').responses)).toEqual(['200', '401', '403', '500', '503']);
  });

  it('refuses a route that declares no access', async () => {
    @ApiTags('things')
    @Controller('undeclared')
    class UndeclaredController {
      @Get()
      @ApiOperation({ operationId: 'getUndeclared', summary: 'Undeclared', description: 'Nobody said who may call it.' })
      @ApiOkResponse({ type: ThingDto, description: 'A thing.' })
      get(): ThingDto {
        return { id: 1, name: 'x' };
      }
    }
    await expect(documentOf(UndeclaredController)).rejects.toThrow(/GET \/undeclared: declares no access/);
  });

  it('gives every response X-Request-Id, and 503 Retry-After', () => {
    expect(operation('/open', 'get').responses['200'].headers['X-Request-Id']).toEqual({ $ref: '#/components/headers/X-Request-Id' });
    expect(sut.components!.responses!.ServiceUnavailable).toMatchObject({ headers: { 'Retry-After': {}, 'X-Request-Id': {} } });
  });

  it('gives each problem code a schema of its own, and a 400 the union of its codes', () => {
    expect(schema('ConflictProblem').properties.code).toMatchObject({ enum: ['conflict'] });
    expect(schema('ConflictProblem').properties).toHaveProperty('active_binding_ids');
    expect(schema('ConflictProblem').properties.status).toMatchObject({ type: 'integer', enum: [409] });
    const badRequest = (sut.components!.responses!.BadRequest as Record<string, any>).content['application/problem+json'].schema;
    expect(badRequest.oneOf.map((ref: { $ref: string }) => ref.$ref.split('/').pop())).toEqual([
      'ValidationErrorProblem',
      'MalformedRequestProblem',
      'ConstraintViolationProblem',
      'BadRequestProblem',
    ]);
    expect(badRequest.discriminator.propertyName).toBe('code');
    expect(sut.components!.schemas).not.toHaveProperty('ProblemDetails');
  });

  it('lets a nullable enum hold null', () => {
    expect(schema('Thing').properties.state.enum).toEqual(['on', 'off', null]);
  });

  it('publishes DTO classes without the Dto suffix', () => {
    expect(Object.keys(sut.components!.schemas!).filter((name) => name.endsWith('Dto'))).toEqual([]);
    expect(operation('/things/{id}', 'get').responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Thing' });
  });

  describe('refuses a document a generator would need a workaround for', () => {
    it('a string | null property without an explicit type', async () => {
      class NullableDto {
        @ApiProperty({ description: 'Note.', nullable: true })
        note: string | null;
      }
      @ApiTags('things')
      @Controller('n')
      class NullableController {
        @Get()
        @ApiOperation({ operationId: 'getNullable', summary: 'Get', description: 'Reads.' })
        @ApiOkResponse({ type: NullableDto, description: 'It.' })
        get(): NullableDto {
          return { note: null };
        }
      }
      await expect(documentOf(NullableController)).rejects.toThrow(/Nullable\.note: an object with no properties/);
    });

    it('a header read with @Headers(), an operation without a description, a stray tag', async () => {
      @ApiTags('things', 'elsewhere')
      @Controller('h')
      class HeaderController {
        @Get()
        @ApiOperation({ operationId: 'getHeader', summary: 'Get' })
        @ApiOkResponse({ type: ThingDto, description: 'It.' })
        get(@Headers('x-thing') _thing?: string): ThingDto {
          return { id: 1, name: 'x' };
        }
      }
      const error = await documentOf(HeaderController).catch((e: Error) => e);
      expect(String(error)).toContain('header parameter x-thing comes from @Headers()');
      expect(String(error)).toContain('GET /h: no description');
      expect(String(error)).toContain('tag elsewhere is not declared');
    });

    it('a documented constraint that contradicts the validator', async () => {
      class ContradictionDto {
        @ApiProperty({ description: 'Name.', maxLength: 10 })
        @IsString()
        @MaxLength(5)
        name: string;
      }
      @ApiTags('things')
      @Controller('c')
      class ContradictionController {
        @Post()
        @ApiOperation({ operationId: 'createContradiction', summary: 'Create', description: 'Creates.' })
        @ApiCreatedResponse({ type: ThingDto, description: 'It.' })
        create(@Body() _dto: ContradictionDto): ThingDto {
          return { id: 1, name: 'x' };
        }
      }
      await expect(documentOf(ContradictionController)).rejects.toThrow('ContradictionDto.name: @ApiProperty says maxLength=10 but the validator enforces 5');
    });

    it('an operation without an explicit operationId', async () => {
      @ApiTags('things')
      @Controller('o')
      class AnonymousController {
        @Get()
        @ApiOperation({ summary: 'Get', description: 'Reads.' })
        @ApiOkResponse({ type: ThingDto, description: 'It.' })
        get(): ThingDto {
          return { id: 1, name: 'x' };
        }
      }
      await expect(documentOf(AnonymousController)).rejects.toThrow('GET /o: no operationId in @ApiOperation');
    });
  });
});
