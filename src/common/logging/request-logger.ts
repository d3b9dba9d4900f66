import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level, LevelWithSilentOrString, Logger } from 'pino';

/**
 * A request's logger (`request.log`) that becomes a pino child, with the request id bound, only when
 * it first writes a line. Fastify makes a child per request, which with pino means serialising the
 * bindings (through the redaction rules) every time: about a kilobyte and a microsecond per request,
 * for a logger that at the default level writes nothing on a successful read. Lines it writes are
 * exactly the child's (same bindings, same level, same serializers).
 */
export class RequestLogger implements FastifyBaseLogger {
  private real: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
  ) {}

  private logger(): Logger {
    return (this.real ??= this.parent.child(this.bindings));
  }

  get level(): LevelWithSilentOrString {
    return this.real?.level ?? this.parent.level;
  }

  set level(level: LevelWithSilentOrString) {
    this.logger().level = level;
  }

  isLevelEnabled(level: LevelWithSilentOrString): boolean {
    return (this.real ?? this.parent).isLevelEnabled(level);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger().child(bindings, options);
  }

  private write(level: Level, args: unknown[]): void {
    if (!this.isLevelEnabled(level)) return;
    const logger = this.logger();
    (logger[level] as (...args: unknown[]) => void).apply(logger, args);
  }

  // Methods on the prototype: nothing is allocated per request beyond the object itself.
  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}
}

/**
 * Fastify's `childLoggerFactory`: a RequestLogger, or pino's own child when the route sets a log level
 * or serializers of its own (none of ours do; then nothing would be gained by waiting).
 */
export function requestLoggerFactory(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  for (const _option in options) return logger.child(bindings, options);
  return new RequestLogger(logger as Logger, bindings);
}
