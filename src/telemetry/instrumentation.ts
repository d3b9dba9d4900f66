/**
 * Imported first by main.ts: telemetry must start before http, pg and the rest are loaded. A bad
 * environment is left for main.ts to report.
 */
import { existsSync } from 'node:fs';
import { telemetryConfigFrom } from '../config/telemetry.config';
import { parseEnvironment } from '../config/environment';
import { startTelemetry } from './telemetry';

if (existsSync('.env')) process.loadEnvFile('.env');

let env: ReturnType<typeof parseEnvironment> | undefined;
try {
  env = parseEnvironment();
} catch {
  env = undefined;
}

export const telemetrySdk = env ? startTelemetry(telemetryConfigFrom(env)) : undefined;
