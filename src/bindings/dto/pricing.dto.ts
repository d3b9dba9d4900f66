import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, ValidateBy, type ValidationOptions } from 'class-validator';
import { describeValidator } from '../../common/openapi/validator-schemas';
import { IsNonNegative } from '../../common/validation/validators';

export const DEFAULT_CURRENCY = 'USD';
/** Per 1M tokens; the most expensive models today cost a few hundred. */
export const MAX_PRICE_PER_1M_TOKENS = 1_000_000;

/** The ISO 4217 codes in circulation, as the runtime's ICU data knows them. */
const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

describeValidator('isCurrencyCode', () => ({ type: 'string', pattern: '^[A-Z]{3}$' }));

export function isCurrencyCode(value: unknown): boolean {
  return typeof value === 'string' && CURRENCIES.has(value);
}

export function IsCurrencyCode(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isCurrencyCode',
      validator: {
        validate: isCurrencyCode,
        defaultMessage: () => 'must be an ISO 4217 currency code in upper case, such as USD or EUR',
      },
    },
    options,
  );
}

/** What a provider deployment charges. Amounts are per 1M tokens, in `currency`. */
export class PricingDto {
  @ApiProperty({ description: 'Price of 1M input (prompt) tokens.', example: 10, minimum: 0, maximum: MAX_PRICE_PER_1M_TOKENS })
  @IsNonNegative({ max: MAX_PRICE_PER_1M_TOKENS })
  input_per_1m_tokens: number;

  @ApiProperty({ description: 'Price of 1M output (completion) tokens; 0 for embeddings.', example: 30, minimum: 0, maximum: MAX_PRICE_PER_1M_TOKENS })
  @IsNonNegative({ max: MAX_PRICE_PER_1M_TOKENS })
  output_per_1m_tokens: number;

  @ApiPropertyOptional({
    description: 'ISO 4217 currency code of the amounts. The gateway catalogs (LiteLLM, OpenRouter) are in USD: they carry only USD prices.',
    example: 'USD',
    default: DEFAULT_CURRENCY,
    pattern: '^[A-Z]{3}$',
  })
  @IsOptional()
  @IsCurrencyCode()
  currency?: string;
}

export class PricingResponseDto {
  @ApiProperty({ example: 10, minimum: 0 })
  input_per_1m_tokens: number;

  @ApiProperty({ example: 30, minimum: 0 })
  output_per_1m_tokens: number;

  @ApiProperty({ example: 'USD' })
  currency: string;
}
