import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
export const OPENAPI_FILE = path.join(ROOT, 'openapi.json');
/** Where the SDKs are generated (git-ignored): what an SDK user would get from openapi.json. */
export const SDK_DIR = path.join(__dirname, 'generated');
export const OPENAPI_TYPESCRIPT_OUTPUT = path.join(SDK_DIR, 'openapi-typescript', 'schema.ts');
export const HEY_API_OUTPUT = path.join(SDK_DIR, 'hey-api');

const bin = (name: string) => path.join(ROOT, 'node_modules', '.bin', name);

/**
 * Generates clients from the committed openapi.json as a new SDK user would: openapi-typescript and
 * @hey-api/openapi-ts, each with its default settings.
 */
export function generateSdks(): void {
  rmSync(SDK_DIR, { recursive: true, force: true });
  mkdirSync(path.dirname(OPENAPI_TYPESCRIPT_OUTPUT), { recursive: true });
  execFileSync(bin('openapi-typescript'), [OPENAPI_FILE, '-o', OPENAPI_TYPESCRIPT_OUTPUT], { cwd: ROOT, stdio: 'pipe' });
  execFileSync(bin('openapi-ts'), ['-i', OPENAPI_FILE, '-o', HEY_API_OUTPUT], { cwd: ROOT, stdio: 'pipe' });
}
