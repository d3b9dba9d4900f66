import { Body, Controller, Get, Injectable, Module, Param, Post, Query, Res, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR, APP_PIPE, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { IsOptional, IsString, Matches } from 'class-validator';
import type { FastifyReply } from 'fastify';
import fc from 'fast-check';
import { ResourceNotFoundError } from '../errors/application.error';
import { ProblemDetailsFilter } from '../errors/problem-details.filter';
import { registerFastPath, stringEntries } from '../validation/fast-path';
import { IdParamDto } from '../validation/id-param.dto';
import { createValidationPipe } from '../validation/validation.pipe';
import { Direct, installDirectRoutes } from './direct-routes';

class NameQuery {
  @IsOptional()
  @IsString()
  @Matches(/^[a-z]+$/, { message: 'must be lowercase letters' })
  name?: string;
}
const NAME_KEYS = new Set(['name']);
registerFastPath(NameQuery, (query) => {
  const keys = stringEntries(query, NAME_KEYS);
  if (keys === undefined || (query.name !== undefined && !/^[a-z]+$/.test(query.name as string))) return undefined;
  return Object.assign(new NameQuery(), query);
});

/** Counts the requests that went through Nest's pipeline (a global interceptor sees each of them). */
@Injectable()
class PipelineCounter implements NestInterceptor {
  static seen = 0;
  intercept(_context: ExecutionContext, next: CallHandler) {
    PipelineCounter.seen++;
    return next.handle();
  }
}

/** The same handler twice: served directly, and always through Nest (the reference). */
function item(id: number, query: NameQuery, reply: FastifyReply) {
  if (id === 404) throw new ResourceNotFoundError('item', id);
  void reply.header('x-handled', String(id));
  return Promise.resolve({ id, name: query.name ?? null, dto: query instanceof NameQuery });
}

@Controller('items')
class ItemsController {
  @Get('direct/:id')
  @Direct()
  direct(@Param() { id }: IdParamDto, @Query() query: NameQuery, @Res({ passthrough: true }) reply: FastifyReply) {
    return item(id, query, reply);
  }

  @Get('nest/:id')
  nest(@Param() { id }: IdParamDto, @Query() query: NameQuery, @Res({ passthrough: true }) reply: FastifyReply) {
    return item(id, query, reply);
  }

  @Get('named/:name')
  @Direct()
  named(@Param('name') name: string) {
    return Promise.resolve({ name });
  }
}

@Controller('bad')
class BodyController {
  @Post()
  @Direct()
  create(@Body() body: NameQuery) {
    return body;
  }
}

const providers = [
  { provide: APP_PIPE, useFactory: () => createValidationPipe() },
  { provide: APP_FILTER, useClass: ProblemDetailsFilter },
  { provide: APP_INTERCEPTOR, useClass: PipelineCounter },
];

@Module({ controllers: [ItemsController], providers })
class ItemsModule {}

@Module({ controllers: [BodyController], providers })
class BodyModule {}

describe('@Direct() routes', () => {
  let app: NestFastifyApplication;
  let base: string;

  beforeAll(async () => {
    app = await NestFactory.create<NestFastifyApplication>(ItemsModule, new FastifyAdapter(), { logger: false });
    expect(installDirectRoutes(app, app.getHttpAdapter().getInstance())).toEqual(['ItemsController.direct', 'ItemsController.named']);
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = await app.getUrl();
  });
  afterAll(() => app.close());

  const get = async (path: string, init: RequestInit = {}) => {
    const before = PipelineCounter.seen;
    const response = await fetch(`${base}${path}`, init);
    const text = await response.text();
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      handled: response.headers.get('x-handled'),
      body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
      throughNest: PipelineCounter.seen - before,
    };
  };
  /** A problem without what differs per request. */
  const comparable = (body: Record<string, unknown> | undefined) => body && { ...body, instance: undefined, request_id: undefined };

  it('serve plainly valid input without Nest, with the arguments Nest would build', async () => {
    expect(await get('/items/direct/7?name=abc')).toEqual({
      status: 200,
      type: 'application/json; charset=utf-8',
      handled: '7',
      body: { id: 7, name: 'abc', dto: true },
      throughNest: 0,
    });
    expect(await get('/items/named/some%20name')).toMatchObject({ status: 200, body: { name: 'some name' }, throughNest: 0 });
    // Fastify's HEAD route for the GET is direct too.
    expect(await get('/items/direct/7', { method: 'HEAD' })).toMatchObject({ status: 200, handled: '7', body: undefined, throughNest: 0 });
  });

  it('hand every input the fast path declines to Nest, so validation errors stay class-validator’s', async () => {
    for (const path of ['/items/direct/abc', '/items/direct/0', '/items/direct/7?name=ABC', '/items/direct/7?other=1', '/items/direct/7?name=a&name=b']) {
      const direct = await get(path);
      expect({ path, status: direct.status, throughNest: direct.throughNest }).toEqual({ path, status: 400, throughNest: 1 });
      expect(direct.type).toBe('application/problem+json; charset=utf-8');
      expect(comparable(direct.body)).toEqual(comparable((await get(path.replace('/direct/', '/nest/'))).body));
    }
  });

  it('answer a handler’s error with the exception filter’s problem, as Nest does', async () => {
    const direct = await get('/items/direct/404');
    expect(direct).toMatchObject({ status: 404, type: 'application/problem+json; charset=utf-8', throughNest: 0 });
    expect(direct.body).toMatchObject({ code: 'not-found', instance: '/items/direct/404', detail: 'No item with id 404 exists.' });
    expect(comparable(direct.body)).toEqual(comparable((await get('/items/nest/404')).body));
  });

  it('answer exactly what Nest answers, for any input', async () => {
    const segment = fc.oneof(fc.integer({ min: -5, max: 1_000 }).map(String), fc.constantFrom('abc', '007', '1e3', ' 1', '9007199254740993'));
    const name = fc.option(fc.oneof(fc.constantFrom('abc', 'ABC', '', 'a b'), fc.string({ maxLength: 4 })), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(segment, name, async (id, value) => {
        const query = value === undefined ? '' : `?name=${encodeURIComponent(value)}`;
        const [direct, nest] = [await get(`/items/direct/${encodeURIComponent(id)}${query}`), await get(`/items/nest/${encodeURIComponent(id)}${query}`)];
        expect({ ...direct, body: comparable(direct.body), throughNest: undefined }).toEqual({ ...nest, body: comparable(nest.body), throughNest: undefined });
      }),
      { numRuns: 60 },
    );
  });

  it('refuse, when the app starts, a route with an argument they cannot build', async () => {
    const bad = await NestFactory.create<NestFastifyApplication>(BodyModule, new FastifyAdapter(), { logger: false });
    try {
      expect(() => installDirectRoutes(bad, bad.getHttpAdapter().getInstance())).toThrow(
        '@Direct() BodyController.create: argument 0 cannot be built outside Nest (only @Param, @Query and @Res({ passthrough: true }))',
      );
    } finally {
      await bad.close();
    }
  });
});
