import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Model Registry Service')
    .setDescription(
      'System of record for AI models, their versions, provider bindings and retention. ' +
        'Every error is RFC 9457 application/problem+json; GET /problems lists the problem types.',
    )
    .setVersion(process.env.npm_package_version ?? '0.1.0')
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        description: 'An API key (`mrk_…`, from POST /api-keys), an OIDC token from the configured issuer, or AUTH_BOOTSTRAP_KEY. The scopes an operation needs are in its `x-required-scopes`.',
      },
      'bearer',
    )
    .build();
  return SwaggerModule.createDocument(app, config, {
    // Every route declares its own operationId; this only names any that forgets (and a test fails).
    operationIdFactory: (controllerKey, methodKey) => `${controllerKey}_${methodKey}`,
  });
}

/** Swagger UI at /docs, the document at /docs-json (and /docs-yaml). */
export function setUpOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    yamlDocumentUrl: 'docs-yaml',
    customSiteTitle: 'Model Registry API',
  });
}
