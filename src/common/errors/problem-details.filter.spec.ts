import { Logger, type ArgumentsHost } from '@nestjs/common';
import { ProblemDetailsFilter } from './problem-details.filter';

function host() {
  const reply = { sent: false, statusCode: 0, body: undefined as unknown, headers: {} as Record<string, string> };
  const chain = {
    status: (code: number) => ((reply.statusCode = code), chain),
    header: (name: string, value: string) => ((reply.headers[name] = value), chain),
    send: (body: unknown) => ((reply.body = body), chain),
    get sent() {
      return reply.sent;
    },
  };
  const request = { url: '/models?x=1', method: 'GET', id: 'req-1', routeOptions: { url: '/models' }, headers: {} };
  const argumentsHost = { switchToHttp: () => ({ getRequest: () => request, getResponse: () => chain }) } as unknown as ArgumentsHost;
  return { argumentsHost, reply };
}

describe(ProblemDetailsFilter.name, () => {
  afterEach(() => jest.restoreAllMocks());

  it('logs a database outage as one line without a stack, and answers 503 with Retry-After', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const { argumentsHost, reply } = host();
    new ProblemDetailsFilter().catch(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), argumentsHost);
    expect(reply.statusCode).toBe(503);
    expect(reply.headers['retry-after']).toBe('5');
    expect(error).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledTimes(1);
    const [fields, message] = warn.mock.calls[0] as [Record<string, unknown>, string];
    expect(fields).toEqual({ request_id: 'req-1', method: 'GET', route: '/models', reason: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:5432' });
    expect(message).toBe('The database is unavailable. Retry shortly.');
    expect(JSON.stringify(reply.body)).not.toMatch(/ECONNREFUSED|5432/);
  });

  it('still logs unexpected errors with their stack', () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const { argumentsHost, reply } = host();
    new ProblemDetailsFilter().catch(new TypeError('x is undefined'), argumentsHost);
    expect(reply.statusCode).toBe(500);
    expect((error.mock.calls[0][0] as { err: unknown }).err).toBeInstanceOf(TypeError);
  });

  it('answers Fastify client errors it has no wording for with the status, never their message', () => {
    const { argumentsHost, reply } = host();
    new ProblemDetailsFilter().catch(Object.assign(new Error('Unsupported thing: <script>'), { code: 'FST_ERR_SOMETHING_NEW', statusCode: 406 }), argumentsHost);
    expect(reply.statusCode).toBe(406);
    expect(JSON.stringify(reply.body)).not.toContain('<script>');
  });
});
