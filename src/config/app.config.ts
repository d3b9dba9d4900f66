import { registerAs } from '@nestjs/config';
import { parseEnvironment, type Environment } from './environment';

export const BODY_LIMIT_BYTES = 1024 * 1024;

export function appConfigFrom(env: Environment) {
  return {
    host: env.HOST,
    port: env.PORT,
    corsOrigins: env.CORS_ORIGINS,
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT,
    shutdownDrainMs: env.SHUTDOWN_DRAIN_MS,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    healthDbTimeoutMs: env.HEALTH_DB_TIMEOUT_MS,
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    trustProxy: env.TRUST_PROXY,
  };
}

export const appConfig = registerAs('app', () => appConfigFrom(parseEnvironment()));
export type AppConfig = ReturnType<typeof appConfigFrom>;
