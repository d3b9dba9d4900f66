import { Body, Controller, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { RequireScope, RestrictedModels } from '../common/auth/access.decorator';
import type { ModelRestriction } from '../common/auth/model-patterns';
import { BodyLimit } from '../common/http/body-limit';
import { Etag } from '../common/http/etag.hook';
import { ApiProblemResponses } from '../common/openapi/api-problem-responses.decorator';
import { CatalogService } from './catalog.service';
import { CatalogImportQueryDto, CatalogQueryDto, LiteLlmCatalogQueryDto } from './dto/catalog-query.dto';
import { CatalogImportReportDto, LiteLlmCatalogDto, OpenRouterCatalogDto } from './dto/catalog-response.dto';

/** LiteLLM's model_prices_and_context_window.json is ~1.6 MB and growing. */
export const CATALOG_IMPORT_BODY_LIMIT = 5 * 1024 * 1024;

@ApiTags('gateway')
@Controller('catalog')
export class CatalogController {
  constructor(private readonly catalog: CatalogService) {}

  @Get('litellm')
  @Etag()
  @RequireScope('registry:read', 'list')
  @ApiOperation({
    operationId: 'getLiteLlmCatalog',
    summary: 'The registry as a LiteLLM proxy model_list',
    description:
      "One entry per active binding of the version each model routes to: `model_name` (the registry model), `litellm_params` (`model` = `<LiteLLM provider>/<provider_model_id>`, `api_base` = endpoint_url) and `model_info` " +
      '(per-token USD costs, max_tokens, max_input_tokens, max_output_tokens, mode and supports_* flags). JSON, or YAML with format=yaml. API keys are not part of it: LiteLLM reads them from its environment.',
  })
  @ApiExtraModels(LiteLlmCatalogDto)
  @ApiOkResponse({
    description: 'The model_list.',
    content: { 'application/json': { schema: { $ref: getSchemaPath(LiteLlmCatalogDto) } }, 'application/yaml': { schema: { type: 'string' } } },
  })
  @ApiProblemResponses(400)
  async getLiteLlmCatalog(
    @Query() query: LiteLlmCatalogQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
    @RestrictedModels() restriction?: ModelRestriction,
  ): Promise<LiteLlmCatalogDto | string> {
    const catalog = await this.catalog.liteLlm(query, restriction);
    if (query.format !== 'yaml') return catalog;
    void reply.type('application/yaml; charset=utf-8');
    return this.catalog.liteLlmYaml(catalog);
  }

  @Get('openrouter')
  @Etag()
  @RequireScope('registry:read', 'list')
  @ApiOperation({
    operationId: 'getOpenRouterCatalog',
    summary: "The registry in the shape of OpenRouter's GET /models",
    description:
      'One entry per model that has an active binding: id, canonical_slug and name (the model name), created, description, context_length, architecture, ' +
      'pricing (prompt and completion: the lowest USD price per token among the bindings, as decimal strings), top_provider (the binding resolve ranks first), per_request_limits and supported_parameters.',
  })
  @ApiOkResponse({ type: OpenRouterCatalogDto, description: 'The models, as OpenRouter lists them.' })
  @ApiProblemResponses(400)
  getOpenRouterCatalog(@Query() query: CatalogQueryDto, @RestrictedModels() restriction?: ModelRestriction): Promise<OpenRouterCatalogDto> {
    return this.catalog.openRouter(query, restriction);
  }

  @Post('import')
  @HttpCode(200)
  // It changes bindings of any model: a key restricted to some models cannot run it.
  @RequireScope('registry:manage', 'unrestricted')
  @BodyLimit(CATALOG_IMPORT_BODY_LIMIT)
  @ApiOperation({
    operationId: 'importLiteLlmCatalog',
    summary: "Fill bindings' pricing, context window and capabilities from LiteLLM's model_prices_and_context_window.json",
    description:
      'The body is the document as LiteLLM publishes it (up to 5 MiB; `sample_spec` is ignored). A binding matches the key `<LiteLLM provider>/<provider_model_id>` ' +
      '(`azure/gpt-4o` for an azure-openai binding), else the key `<provider_model_id>` when that entry\'s litellm_provider is the binding\'s provider. ' +
      'Prices (USD, per token × 1M) and limits (max_input_tokens → context_window, max_output_tokens) replace the binding\'s; capabilities the entry declares ' +
      '(mode and supports_* flags) are added. Nothing else changes. dry_run=true answers the same report and changes nothing.',
  })
  @ApiBody({
    description: "LiteLLM's model_prices_and_context_window.json.",
    schema: {
      type: 'object',
      additionalProperties: { description: 'A model entry; entries that are not objects, and fields of the wrong type, are reported and ignored.' },
      example: {
        'gpt-4o': { litellm_provider: 'openai', mode: 'chat', input_cost_per_token: 0.0000025, output_cost_per_token: 0.00001, max_input_tokens: 128000, max_output_tokens: 16384, supports_function_calling: true, supports_vision: true },
      },
    },
  })
  @ApiOkResponse({ type: CatalogImportReportDto, description: 'What matched, and what changed (or would change, with dry_run=true).' })
  @ApiProblemResponses(400, 413, 415)
  importLiteLlmCatalog(@Body() document: Record<string, unknown>, @Query() query: CatalogImportQueryDto): Promise<CatalogImportReportDto> {
    return this.catalog.import(document, query.dry_run ?? false);
  }
}
