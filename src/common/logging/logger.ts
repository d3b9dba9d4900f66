import type { LoggerService } from '@nestjs/common';
import pino, { type Logger, type LevelWithSilent } from 'pino';

export interface LoggerOptions {
  level: LevelWithSilent;
  format: 'auto' | 'json' | 'pretty';
  serviceName: string;
}

/** What the root logger redacts: a `password` at the top of a line's fields or one level down, and `req.headers.authorization`. */
export const REDACT_PATHS = ['req.headers.authorization', '*.password', 'password'];

/**
 * Whether the root logger's redaction could change a line with these fields: only when one of them is
 * named `password` or holds an object (every other path goes through an object). Lines for which it
 * cannot may skip it (it is most of the cost of writing a short line).
 */
export function redactionCanApply(fields: Record<string, unknown>): boolean {
  for (const key in fields) {
    const value = fields[key];
    if (key === 'password' || (typeof value === 'object' && value !== null)) return true;
  }
  return false;
}

/**
 * The process-wide structured logger: one JSON object per line on stdout, or human-readable lines when
 * a terminal is attached (or LOG_FORMAT=pretty). Fastify, Nest and our own code all log through it.
 */
export function createRootLogger(options: LoggerOptions): Logger {
  const pretty = options.format === 'pretty' || (options.format === 'auto' && process.stdout.isTTY === true);
  const settings: pino.LoggerOptions = {
    level: options.level,
    base: { service: options.serviceName, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  if (pretty) {
    try {
      // pino-pretty is a development dependency; production images log JSON.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const prettyStream = require('pino-pretty') as (opts: object) => NodeJS.WritableStream;
      return pino(settings, prettyStream({ colorize: process.stdout.isTTY === true, sync: true, translateTime: 'SYS:HH:MM:ss.l' }));
    } catch {
      // Fall through to JSON.
    }
  }
  // Lines are buffered and written in batches (one write per 4 KiB, and at least every 250 ms, and at
  // exit): a write per request line cost ~30% of the service's CPU under load.
  const destination = pino.destination({ dest: 1, minLength: 4096, sync: false });
  setInterval(() => destination.flush(), 250).unref();
  return pino(settings, destination);
}

type NestLevel = 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
const PINO_LEVEL: Record<NestLevel, pino.Level> = {
  log: 'info',
  error: 'error',
  warn: 'warn',
  debug: 'debug',
  verbose: 'trace',
  fatal: 'fatal',
};

/** Nest logs every module and route at startup; useful when debugging, noise otherwise. */
const STARTUP_CHATTER = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory']);

/** Lets Nest's `Logger` write through pino, keeping the context (class name) as a field. */
export class PinoLoggerService implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...rest: unknown[]) {
    this.write('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.write('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]) {
    this.write('fatal', message, rest);
  }

  private write(level: NestLevel, message: unknown, rest: unknown[]) {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const target = level === 'log' && context && STARTUP_CHATTER.has(context) ? 'debug' : PINO_LEVEL[level];
    if (!this.logger.isLevelEnabled(target)) return;
    // Nest passes the context (a class name) last; error() may pass a stack string before it.
    const params = context ? rest.slice(0, -1) : rest;
    const fields: Record<string, unknown> = context ? { context } : {};
    if (message instanceof Error) {
      this.logger[target]({ ...fields, err: message }, message.message);
      return;
    }
    if (message !== null && typeof message === 'object') {
      const { msg, ...rest } = message as Record<string, unknown>;
      const text = typeof params[0] === 'string' ? params[0] : typeof msg === 'string' ? msg : undefined;
      this.logger[target]({ ...fields, ...rest }, text);
      return;
    }
    if (typeof params[0] === 'string' && level === 'error') fields.stack = params[0];
    this.logger[target](fields, String(message));
  }
}
