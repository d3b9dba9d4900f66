import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level, LevelWithSilentOrString, Logger } from 'pino';
import { redactionCanApply } from './logger';

/**
 * A request's logger (`request.log`) that becomes a pino child, with the request id bound, only when
 * something other than the request's own line is logged through it. Fastify makes a child per request,
 * which with pino means serialising the bindings (through the redaction rules) every time: about a
 * kilobyte and a microsecond per request. The request line (`line`) is written through the parent with
 * the bindings first among its fields, which is where pino puts a child's bindings; at LOG_LEVEL=warn
 * nothing is written on a successful request. Every line is byte for byte the child's (same bindings,
 * same level, same serializers and redaction).
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

  /**
   * One line with `fields` after the request's bindings, as the child would write it, without making
   * the child when there is none yet.
   */
  line(level: Level, fields: Record<string, unknown>, message: string): void {
    if (!this.isLevelEnabled(level)) return;
    if (this.real !== undefined) return this.real[level](fields, message);
    const withBindings = Object.assign({}, this.bindings, fields);
    // Redaction cannot change a line of plain values: it is skipped (it cost more than the rest of the line).
    (redactionCanApply(withBindings) ? this.parent : unredacted(this.parent))[level](withBindings, message);
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

const twins = new WeakMap<Logger, Logger>();

/** The logger without its redaction (same level, bindings, formatters and destination), made once. */
function unredacted(logger: Logger): Logger {
  let twin = twins.get(logger);
  if (twin === undefined) twins.set(logger, (twin = logger.child({}, { redact: [] })));
  return twin;
}

/**
 * Fastify's `childLoggerFactory`: a RequestLogger, or pino's own child when the route sets a log level
 * or serializers of its own (none of ours do; then nothing would be gained by waiting).
 */
export function requestLoggerFactory(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  for (const _option in options) return logger.child(bindings, options);
  return new RequestLogger(logger as Logger, bindings);
}
