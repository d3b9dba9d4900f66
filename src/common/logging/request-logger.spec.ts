import pino from 'pino';
import { REDACT_PATHS, redactionCanApply } from './logger';
import { RequestLogger, requestLoggerFactory } from './request-logger';

/** A pino logger writing into an array, with a fixed time so lines compare byte for byte. */
function capture(level = 'info') {
  const lines: string[] = [];
  // The service's root logger settings (createRootLogger): base fields, level labels, redaction.
  const logger = pino(
    {
      level,
      timestamp: () => ',"time":0',
      base: { service: 'model-registry-svc', pid: 1 },
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    { write: (line: string) => lines.push(line) },
  );
  return { logger, lines };
}

describe(RequestLogger.name, () => {
  it('writes exactly the lines pino child with the same bindings writes', () => {
    const lazy = capture();
    const eager = capture();
    const viaLazy = new RequestLogger(lazy.logger, { request_id: 'r-1' });
    const viaChild = eager.logger.child({ request_id: 'r-1' });
    for (const logger of [viaLazy, viaChild]) {
      logger.info({ route: '/models/:id', password: 'hunter2' }, 'request completed');
      logger.warn('plain %s', 'message');
      logger.error(new Error('boom'));
      logger.debug('not at info');
      logger.child({ extra: 1 }).info('from a grandchild');
    }
    const withoutStack = (line: string) => line.replace(/"stack":"[^"]*"/, '"stack":"…"');
    expect(lazy.lines.map(withoutStack)).toEqual(eager.lines.map(withoutStack));
    expect(lazy.lines).toHaveLength(4);
    expect(lazy.lines[0]).toContain('"request_id":"r-1"');
    expect(lazy.lines[0]).toContain('"password":"[redacted]"');
  });

  it('writes the request line as the child would, with the same root logger settings as the service, and without a child', () => {
    const lazy = capture();
    const eager = capture();
    const child = jest.spyOn(lazy.logger, 'child');
    const fields = { method: 'GET', route: '/models/:id', path: '/models/1', status: 200, duration_ms: 1.5, password: 'x' };
    const { password: _secret, ...plain } = fields;
    new RequestLogger(lazy.logger, { request_id: 'r-4' }).line('info', fields, 'request completed');
    new RequestLogger(lazy.logger, { request_id: 'r-4' }).line('info', plain, 'request completed');
    new RequestLogger(lazy.logger, { request_id: 'r-4' }).line('info', { ...plain, nested: { password: 'y' } }, 'request completed');
    new RequestLogger(lazy.logger, { request_id: 'r-5' }).line('debug', fields, 'below the level');
    eager.logger.child({ request_id: 'r-4' }).info(fields, 'request completed');
    eager.logger.child({ request_id: 'r-4' }).info(plain, 'request completed');
    eager.logger.child({ request_id: 'r-4' }).info({ ...plain, nested: { password: 'y' } }, 'request completed');
    expect(lazy.lines).toEqual(eager.lines);
    expect(lazy.lines[0]).toContain('"password":"[redacted]"');
    expect(lazy.lines[2]).toContain('"nested":{"password":"[redacted]"}');
    // No child per request: only the logger's one redaction-free twin, made once.
    const requestChildren = () => child.mock.calls.filter(([bindings]) => Object.keys(bindings).length > 0).length;
    expect(requestChildren()).toBe(0);
    expect(child.mock.calls.length).toBeLessThanOrEqual(1);
    // Once the request has a child (something else was logged), the line goes through it.
    const used = new RequestLogger(lazy.logger, { request_id: 'r-6' });
    used.warn('first');
    used.line('info', { status: 500 }, 'request completed');
    expect(requestChildren()).toBe(1);
    expect(lazy.lines.at(-1)).toContain('"request_id":"r-6","status":500');
  });

  it('makes no pino child until a line is written at an enabled level', () => {
    const { logger } = capture('warn');
    const child = jest.spyOn(logger, 'child');
    const requestLogger = new RequestLogger(logger, { request_id: 'r-2' });
    requestLogger.info('below the level');
    requestLogger.debug('below the level');
    expect(requestLogger.isLevelEnabled('info')).toBe(false);
    expect(requestLogger.isLevelEnabled('warn')).toBe(true);
    expect(requestLogger.level).toBe('warn');
    expect(child).not.toHaveBeenCalled();
    requestLogger.warn('now');
    expect(child).toHaveBeenCalledTimes(1);
    requestLogger.error('again');
    expect(child).toHaveBeenCalledTimes(1);
  });

  it('a level set on the request logger applies to it alone', () => {
    const { logger, lines } = capture('info');
    const requestLogger = new RequestLogger(logger, { request_id: 'r-3' });
    requestLogger.level = 'debug';
    requestLogger.debug('visible');
    logger.debug('not visible');
    expect(lines).toHaveLength(1);
    expect(requestLogger.isLevelEnabled('debug')).toBe(true);
  });

  it('the factory gives pino its own child when the route sets options', () => {
    const { logger } = capture();
    expect(requestLoggerFactory(logger, { request_id: 'a' }, {})).toBeInstanceOf(RequestLogger);
    const withLevel = requestLoggerFactory(logger, { request_id: 'a' }, { level: 'debug' });
    expect(withLevel).not.toBeInstanceOf(RequestLogger);
    expect(withLevel.level).toBe('debug');
  });

  it('redactionCanApply is true whenever the root logger redaction would change the line', () => {
    const { logger, lines } = capture();
    const samples: Record<string, unknown>[] = [
      { a: 1, b: 'x', c: null, d: true },
      { password: 'p' },
      { user: { password: 'p' } },
      { req: { headers: { authorization: 'Bearer t' } } },
      { req: { headers: {} } },
      { list: ['password'] },
      { note: 'password' },
    ];
    for (const fields of samples) {
      lines.length = 0;
      logger.info(fields, 'm');
      const redacted = lines[0].includes('[redacted]');
      if (redacted) expect(redactionCanApply(fields)).toBe(true);
    }
    expect(samples.map(redactionCanApply)).toEqual([false, true, true, true, true, true, false]);
  });
});
