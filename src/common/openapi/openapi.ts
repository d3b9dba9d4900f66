import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { refineDocument } from './document-rules';
import { PROBLEM_MODELS } from './problem-schemas';
import { collectRouteFacts } from './route-catalogue';

/** Every tag an operation may use, with what it groups (the document lists them in this order). */
export const API_TAGS: Record<string, string> = {
  models: 'Models: the named entries of the registry (name, task, subject), with their aliases.',
  versions: 'Versions of a model: an artifact identified by its SHA-256 and a SemVer version, with cost, score and SLO figures. Registration is idempotent.',
  bindings: 'Provider bindings: which provider model serves a version, with its settings and observed latency and success rate.',
  aliases: 'Aliases: named pointers (production, staging, …) from a model to one of its live versions.',
  gateway: 'For an LLM gateway: resolve a model to a version and ranked bindings in one call, and follow the change feed.',
  security: 'Identity and audit: API keys, the caller\'s identity, and the append-only audit log of every change.',
  webhooks: 'Webhooks: signed, retried, ordered deliveries of the change feed to your HTTPS endpoints (Standard Webhooks).',
  retention: 'Retention: keep the newest versions of each model, archive the rest, purge old archives, restore.',
  stats: 'Registry statistics.',
  health: 'Liveness and readiness probes.',
  monitoring: 'Prometheus metrics.',
  problems: 'Documentation of the problem types error responses carry.',
};

/** The service's version, from the nearest package.json above this file (in src/, dist/ or a test build alike). */
function serviceVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    if (path.dirname(dir) === dir) throw new Error('package.json not found above ' + __dirname);
  }
}

/**
 * The OpenAPI document of the application: what @nestjs/swagger reads from the decorators, refined by
 * document-rules.ts. The same function serves /docs-json and writes openapi.json (`npm run openapi`,
 * on an application created with `preview: true`: no database, no server).
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Model Registry Service')
    .setDescription(
      'System of record for AI models, their versions, provider bindings and retention. ' +
        'Every error is RFC 9457 application/problem+json; GET /problems lists the problem types. ' +
        'Every response carries X-Request-Id; single resources carry a strong ETag for If-None-Match (304) and If-Match (412).',
    )
    .setVersion(serviceVersion())
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    // Relative: the instance that serves this document (a generated client still takes a base URL).
    .addServer('/', 'The instance serving this document');
  for (const [name, description] of Object.entries(API_TAGS)) builder.addTag(name, description);
  const document = SwaggerModule.createDocument(app, builder.build(), {
    extraModels: PROBLEM_MODELS,
    // Every route declares its own operationId; this only names any that forgets (and generation fails).
    operationIdFactory: (controllerKey, methodKey) => `${controllerKey}_${methodKey}`,
  });
  document.info.contact = { name: 'Model Registry Service maintainers' };
  return refineDocument(document, collectRouteFacts(app));
}

/** Swagger UI at /docs, the document at /docs-json (and /docs-yaml), built on the first request for it. */
export function setUpOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    yamlDocumentUrl: 'docs-yaml',
    customSiteTitle: 'Model Registry API',
  });
}
