import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { buildOpenApiDocument } from './common/openapi/openapi';

/** Where the committed document lives: the repository root. */
export const OPENAPI_FILE = path.resolve(__dirname, '..', 'openapi.json');

/** The document as committed: two-space JSON with a final newline. */
export const serializeDocument = (document: object) => `${JSON.stringify(document, null, 2)}\n`;

/**
 * The application's OpenAPI document, built without a database or a listening server: in preview
 * mode Nest resolves the module graph and reads the decorators but instantiates no provider.
 */
export async function generateOpenApiDocument(): Promise<string> {
  const app = await NestFactory.create(AppModule, new FastifyAdapter(), { preview: true, logger: false, abortOnError: false });
  try {
    return serializeDocument(buildOpenApiDocument(app));
  } finally {
    await app.close();
  }
}

/** `npm run openapi` writes openapi.json; `npm run openapi -- --check` fails when it is out of date. */
async function main(): Promise<void> {
  const generated = await generateOpenApiDocument();
  if (process.argv.includes('--check')) {
    const committed = readFileSync(OPENAPI_FILE, 'utf8');
    if (committed !== generated) {
      process.stderr.write('openapi.json is out of date with the code: run `npm run openapi` and commit the result.\n');
      process.exit(1);
    }
    return;
  }
  writeFileSync(OPENAPI_FILE, generated);
  process.stdout.write(`wrote ${path.relative(process.cwd(), OPENAPI_FILE)}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
