import { ApiProperty } from '@nestjs/swagger';
import { BINDING_STATUSES } from '../provider-binding.entity';
import { LABELS_RESPONSE_PROPERTY } from '../../common/labels/label-api-properties';
import { BINDING_CAPABILITIES } from '../capabilities';
import type { BindingRow, Pricing } from '../bindings.repository';
import { PricingResponseDto } from './pricing.dto';

/** The pricing columns of a row as the API's `pricing` object (null when unpriced). */
export function pricingOf(row: Pick<BindingRow, 'input_per_1m_tokens' | 'output_per_1m_tokens' | 'currency'>): Pricing | null {
  return row.input_per_1m_tokens === null || row.output_per_1m_tokens === null || row.currency === null
    ? null
    : { input_per_1m_tokens: row.input_per_1m_tokens, output_per_1m_tokens: row.output_per_1m_tokens, currency: row.currency };
}

export class BindingResponseDto {
  @ApiProperty({ example: 1, type: 'integer' })
  id: number;

  @ApiProperty({ example: 1, type: 'integer' })
  version_id: number;

  @ApiProperty({ description: 'The model of the version (for convenience).', example: 1, type: 'integer' })
  model_id: number;

  @ApiProperty({ example: 'openai' })
  provider: string;

  @ApiProperty({ example: 'gpt-4-0125-preview' })
  provider_model_id: string;

  @ApiProperty({ enum: BINDING_STATUSES, example: 'active' })
  status: string;

  @ApiProperty({ example: { temperature: 0.7, max_tokens: 2000 }, type: 'object', additionalProperties: true })
  config: Record<string, unknown>;

  @ApiProperty({ example: null, nullable: true, type: String })
  endpoint_url: string | null;

  @ApiProperty({ example: 850, nullable: true, type: Number })
  avg_latency_ms: number | null;

  @ApiProperty({ example: 0.998, nullable: true, type: Number })
  success_rate: number | null;

  @ApiProperty({ example: null, nullable: true, type: String, format: 'date-time' })
  last_used_at: string | null;

  @ApiProperty({ description: 'Usage samples reported so far.', example: 1520, type: 'integer' })
  usage_samples: number;

  @ApiProperty(LABELS_RESPONSE_PROPERTY)
  labels: Record<string, string>;

  @ApiProperty({ description: 'Price per 1M tokens; null when unknown.', type: PricingResponseDto, nullable: true })
  pricing: Pricing | null;

  @ApiProperty({ description: 'Context window in tokens.', example: 128000, nullable: true, type: 'integer' })
  context_window: number | null;

  @ApiProperty({ description: 'Most tokens one response can have.', example: 4096, nullable: true, type: 'integer' })
  max_output_tokens: number | null;

  @ApiProperty({ description: 'What the deployment can do.', example: ['chat', 'tools'], type: 'array', items: { type: 'string', enum: [...BINDING_CAPABILITIES] } })
  capabilities: string[];

  @ApiProperty({ example: '2026-11-26T12:00:00.000Z', format: 'date-time' })
  created_at: string;

  @ApiProperty({ example: '2026-11-26T12:00:00.000Z', format: 'date-time' })
  updated_at: string;

  static fromRow(row: BindingRow): BindingResponseDto {
    return {
      id: row.id,
      version_id: row.version_id,
      model_id: row.model_id,
      provider: row.provider,
      provider_model_id: row.provider_model_id,
      status: row.status,
      config: row.config,
      endpoint_url: row.endpoint_url,
      avg_latency_ms: row.avg_latency_ms,
      success_rate: row.success_rate,
      last_used_at: row.last_used_at ? row.last_used_at.toISOString() : null,
      usage_samples: row.usage_samples,
      labels: row.labels,
      pricing: pricingOf(row),
      context_window: row.context_window,
      max_output_tokens: row.max_output_tokens,
      capabilities: row.capabilities,
      created_at: row.created_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
    };
  }
}

export class BindingPageDto {
  @ApiProperty({ type: [BindingResponseDto] })
  items: BindingResponseDto[];

  @ApiProperty({ description: 'Token for the next page, or null on the last page.', nullable: true, type: String, example: null })
  next_page_token: string | null;
}
