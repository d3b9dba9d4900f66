import { ApiProperty } from '@nestjs/swagger';
import { LABELS_RESPONSE_PROPERTY } from '../../common/labels/label-api-properties';
import { BINDING_CAPABILITIES } from '../../bindings/capabilities';
import { PricingResponseDto } from '../../bindings/dto/pricing.dto';

class ResolvedModelDto {
  @ApiProperty({ type: 'integer', example: 1 })
  id: number;
  @ApiProperty({ example: 'gpt-4-turbo' })
  name: string;
  @ApiProperty({ example: 'generation' })
  task: string;
}

class ResolvedVersionDto {
  @ApiProperty({ type: 'integer', example: 3 })
  id: number;
  @ApiProperty({ example: '1.4.2' })
  version: string;
  @ApiProperty({ example: 'a1b2c3d4e5f6789012345678901234567890123456789012345678901234abcd' })
  hash: string;
  @ApiProperty({ nullable: true, type: String, example: 'us-east-1' })
  region: string | null;
  @ApiProperty({ nullable: true, type: Number, example: 0.01 })
  cost_per_1k: number | null;
  @ApiProperty({ nullable: true, type: Number, example: 0.92 })
  eval_score: number | null;
  @ApiProperty({ example: true })
  slo_ok: boolean;
  @ApiProperty({ nullable: true, type: String })
  artifact_uri: string | null;
  @ApiProperty(LABELS_RESPONSE_PROPERTY)
  labels: Record<string, string>;
  @ApiProperty({ format: 'date-time' })
  created_at: string;
}

export class RoutedBindingDto {
  @ApiProperty({ type: 'integer', description: '1 is the preferred binding.', example: 1 })
  rank: number;
  @ApiProperty({ type: 'integer', example: 7 })
  id: number;
  @ApiProperty({ example: 'openai' })
  provider: string;
  @ApiProperty({ example: 'gpt-4-0125-preview' })
  provider_model_id: string;
  @ApiProperty({ nullable: true, type: String })
  endpoint_url: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { temperature: 0.7 } })
  config: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: Number, description: "The version's cost per 1K.", example: 0.01 })
  cost_per_1k: number | null;
  @ApiProperty({ nullable: true, type: Number, example: 850 })
  avg_latency_ms: number | null;
  @ApiProperty({ nullable: true, type: Number, example: 0.998 })
  success_rate: number | null;
  @ApiProperty({ description: "The version's SLO flag.", example: true })
  slo_ok: boolean;
  @ApiProperty({ description: 'Price per 1M tokens; null when unknown.', type: PricingResponseDto, nullable: true })
  pricing: PricingResponseDto | null;
  @ApiProperty({ nullable: true, type: 'integer', example: 128000 })
  context_window: number | null;
  @ApiProperty({ nullable: true, type: 'integer', example: 4096 })
  max_output_tokens: number | null;
  @ApiProperty({ type: 'array', items: { type: 'string', enum: [...BINDING_CAPABILITIES] }, example: ['chat', 'tools'] })
  capabilities: string[];
  @ApiProperty(LABELS_RESPONSE_PROPERTY)
  labels: Record<string, string>;
}

export class ResolveResponseDto {
  @ApiProperty({ type: ResolvedModelDto })
  model: ResolvedModelDto;
  @ApiProperty({ type: ResolvedVersionDto })
  version: ResolvedVersionDto;
  @ApiProperty({ enum: ['alias', 'latest', 'version', 'range'], description: 'How the version was chosen.' })
  resolved_by: string;
  @ApiProperty({ nullable: true, type: String, description: 'The alias used, if any.', example: 'production' })
  alias: string | null;
  @ApiProperty({
    type: [RoutedBindingDto],
    description:
      'Active bindings in routing order: SLO ok first, then higher success rate, then lower latency, then lower version cost, then the cheaper binding ' +
      '(lower input, then output price per 1M tokens in `currency`), unknown values last at each step, then lower id.',
  })
  bindings: RoutedBindingDto[];
}
