import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { selectorQueryProperty } from '../../common/labels/label-api-properties';
import { IsLabelSelector } from '../../common/labels/label.validators';
import { IsSlug, ToBoolean, IsFraction, IsNonNegative, SLUG_PATTERN } from '../../common/validation/validators';
import { registerFastPath, stringEntries } from '../../common/validation/fast-path';
import { BINDING_CAPABILITIES, type BindingCapability } from '../../bindings/capabilities';
import { DEFAULT_CURRENCY, IsCurrencyCode, MAX_PRICE_PER_1M_TOKENS } from '../../bindings/dto/pricing.dto';

export class ResolveQueryDto {
  @ApiPropertyOptional({
    description: 'Alias to resolve. Default: `production`, falling back to the newest live version when the model has no `production` alias. `latest` always means the newest live version. An explicit alias the model lacks is a 404.',
    example: 'production',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(SLUG_PATTERN, { message: 'must be a lowercase slug' })
  alias?: string;

  @ApiPropertyOptional({
    description: 'An exact version (`1.4.2`) or a SemVer range (`^1.4`, `~2.0.1`, `>=1.2 <2`, `1.x`), resolved to the highest live version that matches. Not together with alias.',
    example: '^1.4',
  })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  version?: string;

  @ApiPropertyOptional({ description: 'Only versions with an active binding to this provider; only its bindings are returned.', example: 'openai' })
  @IsOptional()
  @IsString()
  @IsSlug()
  provider?: string;

  @ApiPropertyOptional({ description: 'Only versions deployed in this region.', example: 'us-east-1' })
  @IsOptional()
  @IsString()
  @IsSlug()
  region?: string;

  @ApiPropertyOptional({ description: 'Only versions costing at most this per 1K (versions without a cost are excluded).', example: 0.02, minimum: 0 })
  @IsOptional()
  @IsNonNegative({ fromText: true })
  max_cost_per_1k?: number;

  @ApiPropertyOptional({ description: 'Only versions scoring at least this (versions without a score are excluded).', example: 0.85, minimum: 0, maximum: 1 })
  @IsOptional()
  @IsFraction({ fromText: true })
  min_eval_score?: number;

  @ApiPropertyOptional({ description: 'Only versions meeting their SLO.', type: Boolean, default: false })
  @IsOptional()
  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  require_slo?: boolean;

  @ApiPropertyOptional({ ...selectorQueryProperty('versions'), example: 'stage=ga,experiment notin (exp-42)' })
  @IsOptional()
  @IsLabelSelector()
  selector?: string;

  @ApiPropertyOptional({ ...selectorQueryProperty('bindings'), example: 'region in (eu,global)' })
  @IsOptional()
  @IsLabelSelector()
  binding_selector?: string;

  @ApiPropertyOptional({
    description: `Only bindings with every one of these capabilities (comma-separated): ${BINDING_CAPABILITIES.join(', ')}.`,
    example: ['tools', 'vision'],
    type: [String],
    enum: BINDING_CAPABILITIES,
  })
  @IsOptional()
  // `capability=tools,vision`, or the parameter repeated.
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string'))
      ? ([] as string[]).concat(value).flatMap((item) => item.split(',').map((part) => part.trim()))
      : value,
  )
  @IsArray({ message: 'must be a comma-separated list of capabilities' })
  @ArrayMinSize(1, { message: 'must name at least one capability' })
  @ArrayMaxSize(BINDING_CAPABILITIES.length * 4, { message: 'names too many capabilities' })
  @IsIn(BINDING_CAPABILITIES, { each: true, message: `each must be one of ${BINDING_CAPABILITIES.join(', ')}` })
  capability?: BindingCapability[];

  @ApiPropertyOptional({
    description: 'Only bindings whose pricing is in `currency` and charges at most this per 1M input tokens (unpriced bindings are excluded).',
    example: 5,
    minimum: 0,
    maximum: MAX_PRICE_PER_1M_TOKENS,
  })
  @IsOptional()
  @IsNonNegative({ fromText: true, max: MAX_PRICE_PER_1M_TOKENS })
  max_input_cost_per_1m?: number;

  @ApiPropertyOptional({
    description: 'ISO 4217 currency of `max_input_cost_per_1m` and of the price comparison in the ranking (prices in other currencies are never compared).',
    example: 'USD',
    default: DEFAULT_CURRENCY,
  })
  @IsOptional()
  @IsCurrencyCode()
  currency?: string;
}

/** The parameters a gateway usually sends, as plain strings; the others always go through class-validator. */
const FAST_PARAMETERS = new Set(['alias', 'version', 'provider', 'region']);
const isSlug = (value: string) => value.length <= 64 && SLUG_PATTERN.test(value);

registerFastPath(ResolveQueryDto, (query) => {
  const keys = stringEntries(query, FAST_PARAMETERS);
  if (keys === undefined) return undefined;
  const dto = new ResolveQueryDto();
  for (const key of keys) {
    const value = query[key] as string;
    if (key === 'version' ? value.length > 256 : !isSlug(value)) return undefined;
    dto[key as 'alias' | 'version' | 'provider' | 'region'] = value;
  }
  return dto;
});
