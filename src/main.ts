// Telemetry first: it must instrument http and pg before they are loaded.
import { telemetrySdk } from './telemetry/instrumentation';
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { createApp, cutOffArrivingRequestsBeforeDeadline } from './app.factory';
import { appConfigFrom } from './config/app.config';
import { databaseConfigFrom } from './config/database.config';
import { InvalidEnvironmentError, parseEnvironment, type Environment } from './config/environment';
import { createRootLogger } from './common/logging/logger';
import { EmbeddedPostgres } from './database/embedded-postgres';
import { LifecycleState } from './health/lifecycle.state';

function readEnvironment(): Environment {
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return parseEnvironment();
  } catch (error) {
    if (error instanceof InvalidEnvironmentError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const env = readEnvironment();
  const config = appConfigFrom(env);
  const database = databaseConfigFrom(env);
  const logger = createRootLogger({ level: config.logLevel, format: config.logFormat, serviceName: env.OTEL_SERVICE_NAME });
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));

  const embedded = database.embedded
    ? new EmbeddedPostgres({
        dataDir: database.embedded.dataDir,
        port: database.embedded.port,
        user: database.user,
        password: database.password ?? 'postgres',
        databases: [database.database],
        logger,
      })
    : undefined;

  try {
    await embedded?.start();
    const app = await createApp(config, logger);
    await app.listen({ host: config.host, port: config.port });
    const where = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`;
    logger.info({ database: embedded ? 'embedded' : `${database.host}:${database.port}/${database.database}` }, `listening on ${where} (API docs at ${where}/docs)`);
    handleShutdownSignals(logger, config.shutdownDrainMs, config.shutdownTimeoutMs, async () => {
      app.get(LifecycleState).beginShutdown();
      if (config.shutdownDrainMs > 0) await sleep(config.shutdownDrainMs);
      cutOffArrivingRequestsBeforeDeadline(app, config);
      await app.close();
      await embedded?.stop();
      await telemetrySdk?.shutdown().catch(() => undefined);
    });
  } catch (error) {
    logger.fatal({ err: error }, 'the service failed to start');
    await embedded?.stop().catch(() => undefined);
    process.exit(1);
  }
}

/**
 * SIGTERM/SIGINT: readiness turns 503 at once; after SHUTDOWN_DRAIN_MS (time for the load balancer to
 * notice) the server stops accepting, lets in-flight requests finish, closes the pool and the
 * embedded database, and exits 0. A second signal, or SHUTDOWN_TIMEOUT_MS passing, exits 1 at once.
 */
function handleShutdownSignals(logger: Logger, drainMs: number, timeoutMs: number, close: () => Promise<void>): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn({ signal }, 'second signal during shutdown: exiting now');
      process.exit(1);
    }
    closing = true;
    logger.info({ signal, drain_ms: drainMs }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error({ timeout_ms: timeoutMs }, 'shutdown did not finish in time: exiting');
      process.exit(1);
    }, timeoutMs);
    deadline.unref();
    close().then(
      () => {
        logger.info('shutdown complete');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

void main();
