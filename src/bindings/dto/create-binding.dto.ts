import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsNumber, IsObject, IsOptional, IsString, Max, Min, ValidateNested } from 'class-validator';
import { LABELS_INPUT_PROPERTY } from '../../common/labels/label-api-properties';
import { IsLabels } from '../../common/labels/label.validators';
import { BINDING_CAPABILITIES, type BindingCapability } from '../capabilities';
import { DEFAULT_CURRENCY, PricingDto } from './pricing.dto';
import { IsOptionalButNotNull } from '../../common/validation/optional';
import { IsEndpointUrl, IsJsonObject, IsProviderModelId, IsSlug, IsId, IsFraction } from '../../common/validation/validators';
import { BINDING_STATUSES, type BindingStatus } from '../provider-binding.entity';

export const KNOWN_PROVIDERS = ['openai', 'azure-openai', 'anthropic', 'vertex', 'bedrock', 'cohere', 'mistral', 'groq', 'together', 'fireworks', 'huggingface', 'replicate', 'ollama', 'vllm', 'self-hosted'];
export const MAX_LATENCY_MS = 3_600_000;
/** Context windows and output limits: up to a billion tokens (the column is a 32-bit integer). */
export const MAX_TOKENS = 1_000_000_000;

/** A number of tokens: an integer from 1 to MAX_TOKENS. */
function IsTokenCount() {
  const message = `must be an integer from 1 to ${MAX_TOKENS}`;
  return applyDecorators(IsInt({ message }), Min(1, { message }), Max(MAX_TOKENS, { message }));
}

/** The fields of a binding a client may set, shared by create and update. */
export class BindingFieldsDto {
  @ApiPropertyOptional({ description: 'active (routable), inactive or deprecated.', enum: BINDING_STATUSES, default: 'active' })
  @IsOptionalButNotNull()
  @IsIn(BINDING_STATUSES, { message: `must be one of ${BINDING_STATUSES.join(', ')}` })
  status?: BindingStatus;

  @ApiPropertyOptional({
    description: 'Provider settings as a JSON object of at most 16 KiB (replaced whole on update).',
    example: { temperature: 0.7, max_tokens: 2000 },
    type: 'object',
    additionalProperties: true,
  })
  @IsOptionalButNotNull()
  @IsJsonObject()
  config?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Custom endpoint: https, or http for localhost only.', example: 'https://my-resource.openai.azure.com/openai/deployments/gpt4', nullable: true, type: String })
  @IsOptional()
  @IsEndpointUrl()
  endpoint_url?: string | null;

  @ApiPropertyOptional({ description: 'Average latency in milliseconds (zero or more).', example: 850, minimum: 0, nullable: true, type: Number })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'must be a number zero or more' })
  @Min(0, { message: 'must be zero or more' })
  @Max(MAX_LATENCY_MS, { message: `must be at most ${MAX_LATENCY_MS}` })
  avg_latency_ms?: number | null;

  @ApiPropertyOptional({ description: 'Share of successful calls, from 0 to 1.', example: 0.998, minimum: 0, maximum: 1, nullable: true, type: Number })
  @IsOptional()
  @IsFraction()
  success_rate?: number | null;

  @ApiPropertyOptional({ ...LABELS_INPUT_PROPERTY, default: {} })
  @IsOptionalButNotNull()
  @IsLabels()
  labels?: Record<string, string>;

  @ApiPropertyOptional({
    description: `What this deployment charges per 1M tokens; currency defaults to ${DEFAULT_CURRENCY}. null clears it. Resolve ranks cheaper bindings first when everything else ties.`,
    type: PricingDto,
    nullable: true,
  })
  @IsOptional()
  @IsObject({ message: 'must be an object with input_per_1m_tokens, output_per_1m_tokens and currency' })
  @ValidateNested()
  @Type(() => PricingDto)
  pricing?: PricingDto | null;

  @ApiPropertyOptional({ description: 'Context window of this deployment, in tokens.', example: 128000, minimum: 1, maximum: MAX_TOKENS, nullable: true, type: 'integer' })
  @IsOptional()
  @IsTokenCount()
  context_window?: number | null;

  @ApiPropertyOptional({ description: 'Most tokens one response can have.', example: 4096, minimum: 1, maximum: MAX_TOKENS, nullable: true, type: 'integer' })
  @IsOptional()
  @IsTokenCount()
  max_output_tokens?: number | null;

  @ApiPropertyOptional({
    description: `What the deployment can do: a set of ${BINDING_CAPABILITIES.join(', ')} (duplicates are dropped; returned in this order). Replaced whole on update.`,
    example: ['chat', 'tools', 'vision', 'streaming'],
    type: 'array',
    items: { type: 'string', enum: [...BINDING_CAPABILITIES] },
    default: [],
  })
  @IsOptionalButNotNull()
  @IsArray({ message: 'must be an array of capabilities' })
  @ArrayMaxSize(BINDING_CAPABILITIES.length * 4, { message: 'has too many items' })
  @IsIn(BINDING_CAPABILITIES, { each: true, message: `each must be one of ${BINDING_CAPABILITIES.join(', ')}` })
  capabilities?: BindingCapability[];
}

export class CreateBindingDto extends BindingFieldsDto {
  @ApiProperty({ description: 'Id of the model version this binding serves.', example: 1, type: 'integer', minimum: 1 })
  @IsId()
  version_id: number;

  @ApiProperty({ description: `Provider, as a lowercase slug. Known: ${KNOWN_PROVIDERS.join(', ')} (others are accepted).`, example: 'openai', maxLength: 64 })
  @IsString()
  @IsSlug()
  provider: string;

  @ApiProperty({ description: "The provider's identifier for the model (1-256 printable characters).", example: 'gpt-4-0125-preview', maxLength: 256 })
  @IsString()
  @IsProviderModelId()
  provider_model_id: string;
}
