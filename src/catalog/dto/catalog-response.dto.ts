import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { BINDING_CAPABILITIES } from '../../bindings/capabilities';
import { PricingResponseDto } from '../../bindings/dto/pricing.dto';

class LiteLlmParamsDto {
  @ApiProperty({ description: '`<LiteLLM provider>/<provider_model_id>`.', example: 'azure/gpt-4o-eu' })
  model: string;

  @ApiPropertyOptional({ description: "The binding's endpoint_url, when it has one.", example: 'https://my-resource.openai.azure.com' })
  api_base?: string;
}

class LiteLlmDeploymentDto {
  @ApiProperty({ description: 'The registry model name: what clients ask the gateway for. Bindings of one model share it (LiteLLM load-balances them).', example: 'gpt-4o' })
  model_name: string;

  @ApiProperty({ type: LiteLlmParamsDto })
  litellm_params: LiteLlmParamsDto;

  @ApiProperty({
    description:
      'id (registry-binding-<id>), mode, input_cost_per_token and output_cost_per_token (USD prices only), max_tokens, max_input_tokens, max_output_tokens, ' +
      'and supports_function_calling, supports_tool_choice, supports_vision, supports_response_schema, supports_reasoning, supports_audio_input, supports_audio_output, supports_native_streaming from the capabilities.',
    example: { id: 'registry-binding-7', mode: 'chat', input_cost_per_token: 0.0000025, output_cost_per_token: 0.00001, max_tokens: 16384, max_input_tokens: 128000, max_output_tokens: 16384, supports_function_calling: true },
    type: 'object',
    additionalProperties: true,
  })
  model_info: Record<string, string | number | boolean>;
}

export class LiteLlmCatalogDto {
  @ApiProperty({ type: [LiteLlmDeploymentDto], description: 'A LiteLLM proxy `model_list`: one entry per active binding.' })
  model_list: LiteLlmDeploymentDto[];
}

class OpenRouterArchitectureDto {
  @ApiProperty({ example: 'text+image->text' })
  modality: string;
  @ApiProperty({ example: ['text', 'image'], type: [String] })
  input_modalities: string[];
  @ApiProperty({ example: ['text'], type: [String] })
  output_modalities: string[];
  @ApiProperty({ description: 'Not known to the registry: always Other.', example: 'Other' })
  tokenizer: string;
  @ApiProperty({ nullable: true, type: String, example: null })
  instruct_type: string | null;
}

class OpenRouterPricingDto {
  @ApiProperty({ description: 'USD per input token, as a decimal string.', example: '0.0000025' })
  prompt: string;
  @ApiProperty({ description: 'USD per output token, as a decimal string.', example: '0.00001' })
  completion: string;
}

class OpenRouterTopProviderDto {
  @ApiProperty({ nullable: true, type: 'integer', example: 128000 })
  context_length: number | null;
  @ApiProperty({ nullable: true, type: 'integer', example: 16384 })
  max_completion_tokens: number | null;
  @ApiProperty({ example: false })
  is_moderated: boolean;
}

class OpenRouterModelDto {
  @ApiProperty({ description: 'The registry model name.', example: 'gpt-4o' })
  id: string;
  @ApiProperty({ example: 'gpt-4o' })
  canonical_slug: string;
  @ApiProperty({ example: 'gpt-4o' })
  name: string;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Unix time the described version was registered.', example: 1767225600 })
  created: number;
  @ApiProperty({ example: 'GPT-4o for general chat' })
  description: string;
  @ApiProperty({ description: 'The largest context window among the bindings.', nullable: true, type: 'integer', example: 128000 })
  context_length: number | null;
  @ApiProperty({ type: OpenRouterArchitectureDto })
  architecture: OpenRouterArchitectureDto;
  @ApiPropertyOptional({ type: OpenRouterPricingDto, description: 'The lowest USD price among the bindings; absent when none is priced in USD.' })
  pricing?: OpenRouterPricingDto;
  @ApiProperty({ type: OpenRouterTopProviderDto, description: 'The binding resolve ranks first.' })
  top_provider: OpenRouterTopProviderDto;
  @ApiProperty({ description: 'Always null: the registry sets no per-request limits.', nullable: true, example: null, type: 'object', additionalProperties: true })
  per_request_limits: null;
  @ApiProperty({ type: [String], example: ['tools', 'tool_choice'] })
  supported_parameters: string[];
}

export class OpenRouterCatalogDto {
  @ApiProperty({ type: [OpenRouterModelDto], description: "OpenRouter's /models: one entry per model that has an active binding." })
  data: OpenRouterModelDto[];
}

export class ImportedBindingDto {
  @ApiProperty({ type: 'integer', example: 7 })
  binding_id: number;
  @ApiProperty({ type: 'integer', example: 1 })
  model_id: number;
  @ApiProperty({ type: 'integer', example: 3 })
  version_id: number;
  @ApiProperty({ example: 'azure-openai' })
  provider: string;
  @ApiProperty({ example: 'gpt-4o' })
  provider_model_id: string;
  @ApiProperty({ description: 'The key of the price file that matched.', example: 'azure/gpt-4o' })
  key: string;
  @ApiProperty({ description: 'The fields that change (or would, in a dry run); empty when the binding already agrees.', example: ['pricing', 'context_window'], type: [String] })
  changed: string[];
  @ApiProperty({ type: PricingResponseDto, nullable: true })
  pricing: PricingResponseDto | null;
  @ApiProperty({ nullable: true, type: 'integer', example: 128000 })
  context_window: number | null;
  @ApiProperty({ nullable: true, type: 'integer', example: 16384 })
  max_output_tokens: number | null;
  @ApiProperty({ type: 'array', items: { type: 'string', enum: [...BINDING_CAPABILITIES] }, example: ['chat', 'tools', 'vision'] })
  capabilities: string[];
}

export class ImportWarningDto {
  @ApiProperty({ example: 'gpt-4o' })
  key: string;
  @ApiProperty({ example: 'input_cost_per_token: must be a number from 0 to 1' })
  message: string;
}

export class CatalogImportReportDto {
  @ApiProperty({ example: false })
  dry_run: boolean;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Model entries in the document (sample_spec is not counted).', example: 2431 })
  entries: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Entries that are not JSON objects (skipped).', example: 0 })
  invalid_entries: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Entries that matched at least one binding.', example: 3 })
  matched_entries: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Bindings that matched an entry.', example: 4 })
  matched_bindings: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Bindings changed (would be changed, in a dry run).', example: 3 })
  updated_bindings: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Matched bindings that already agree with their entry.', example: 1 })
  unchanged_bindings: number;
  @ApiProperty({ type: [ImportedBindingDto], description: 'The matched bindings (the first 1,000 by id) with their new values.' })
  bindings: ImportedBindingDto[];
  @ApiProperty({ description: 'True when more bindings matched than are listed.', example: false })
  bindings_truncated: boolean;
  @ApiProperty({ type: [ImportWarningDto], description: 'Unusable fields of matched entries, ignored (the first 100).' })
  warnings: ImportWarningDto[];
  @ApiProperty({ example: false })
  warnings_truncated: boolean;
}
