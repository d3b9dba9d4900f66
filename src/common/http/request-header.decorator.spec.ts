import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { IfMatch } from './if-match.decorator';
import { RequestHeader } from './request-header.decorator';

@Controller('echo')
class EchoController {
  @Get('last-event')
  lastEvent(@RequestHeader('Last-Event-ID', 'Resume after this event.') lastEventId?: string): { value: string | null } {
    return { value: lastEventId ?? null };
  }

  @Get('if-match')
  ifMatch(@IfMatch() ifMatch?: string): { value: string | null } {
    return { value: ifMatch ?? null };
  }
}

@Module({ controllers: [EchoController] })
class EchoModule {}

describe('header parameter decorators', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await NestFactory.create<NestFastifyApplication>(EchoModule, new FastifyAdapter(), { logger: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  const get = async (path: string, headers: Record<string, string> = {}) =>
    ((await (await fetch(`${await app.getUrl()}${path}`, { headers })).json()) as { value: string | null }).value;

  it('hand the handler the header, or undefined when it is absent', async () => {
    expect(await get('/echo/last-event', { 'last-event-id': '42' })).toBe('42');
    expect(await get('/echo/last-event')).toBeNull();
    expect(await get('/echo/if-match', { 'if-match': '"abc"' })).toBe('"abc"');
    expect(await get('/echo/if-match')).toBeNull();
  });

  it('document the header once, optional, under its canonical name', () => {
    const document = SwaggerModule.createDocument(app, new DocumentBuilder().build());
    expect(document.paths['/echo/last-event'].get!.parameters).toEqual([
      { name: 'Last-Event-ID', in: 'header', required: false, description: 'Resume after this event.', schema: { type: 'string' } },
    ]);
    // @IfMatch() leaves the header to the document rules (with its 412); nothing lower-case leaks.
    expect(document.paths['/echo/if-match'].get!.parameters).toEqual([]);
  });
});
