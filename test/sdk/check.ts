import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { generateSdks, OPENAPI_TYPESCRIPT_OUTPUT } from './generate';

/**
 * `npm run lint:sdk`: regenerates the clients an SDK user would get from openapi.json, type-checks the
 * strict flow programs against them, and checks that @model-registry/client was regenerated from the
 * committed document (`npm run client:generate`).
 */
const ROOT = path.resolve(__dirname, '..', '..');
const CLIENT_SCHEMA = path.join(ROOT, 'clients', 'typescript', 'src', 'generated', 'schema.ts');

generateSdks();
execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(__dirname, 'tsconfig.json')], { stdio: 'inherit' });
if (readFileSync(CLIENT_SCHEMA, 'utf8') !== readFileSync(OPENAPI_TYPESCRIPT_OUTPUT, 'utf8')) {
  process.stderr.write('clients/typescript/src/generated/schema.ts is out of date with openapi.json: run `npm run openapi` (or `npm run client:generate`) and commit it.\n');
  process.exit(1);
}
