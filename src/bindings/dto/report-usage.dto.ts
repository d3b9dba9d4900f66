import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsNumber, IsOptional, Max, Min, ValidateBy, ValidateIf, ValidateNested, type ValidationOptions } from 'class-validator';
import { describeValidator } from '../../common/openapi/validator-schemas';
import { MAX_LATENCY_MS } from './create-binding.dto';

export const MAX_USAGE_SAMPLES = 1_000;

// A rule across two properties: the descriptions say "either one sample or a batch".
describeValidator('notTogetherWith', () => null);

/** The field may not be given together with `other`. */
function NotTogetherWith(other: string, options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'notTogetherWith',
      constraints: [other],
      validator: {
        validate: (value: unknown, args) => value === undefined || (args?.object as Record<string, unknown>)[other] === undefined,
        defaultMessage: () => `cannot be combined with ${other}: send either one sample or a batch`,
      },
    },
    options,
  );
}

export class UsageSampleDto {
  @ApiPropertyOptional({ description: 'Observed latency in milliseconds (omit when unknown, e.g. a failed call).', example: 420, minimum: 0 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'must be a number zero or more' })
  @Min(0, { message: 'must be zero or more' })
  @Max(MAX_LATENCY_MS, { message: `must be at most ${MAX_LATENCY_MS}` })
  latency_ms?: number;

  @ApiProperty({ description: 'Whether the call succeeded.', example: true })
  @IsBoolean({ message: 'must be true or false' })
  success: boolean;
}

/** One sample (`latency_ms`, `success`) or a batch (`samples`), not both. */
export class ReportUsageDto {
  @ApiPropertyOptional({ description: 'Latency of one call, in milliseconds.', example: 420, minimum: 0 })
  @IsOptional()
  @NotTogetherWith('samples')
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'must be a number zero or more' })
  @Min(0, { message: 'must be zero or more' })
  @Max(MAX_LATENCY_MS, { message: `must be at most ${MAX_LATENCY_MS}` })
  latency_ms?: number;

  @ApiPropertyOptional({ description: 'Whether that call succeeded (required for a single sample).', example: true })
  @ValidateIf((report: ReportUsageDto) => report.samples === undefined || report.success !== undefined)
  @NotTogetherWith('samples')
  @IsBoolean({ message: 'must be true or false' })
  success?: boolean;

  @ApiPropertyOptional({ description: `A batch of 1 to ${MAX_USAGE_SAMPLES} samples, in the order they happened.`, type: [UsageSampleDto] })
  @IsOptional()
  @IsArray({ message: 'must be an array of samples' })
  @ArrayMinSize(1, { message: 'must hold at least one sample' })
  @ArrayMaxSize(MAX_USAGE_SAMPLES, { message: `must hold at most ${MAX_USAGE_SAMPLES} samples` })
  @ValidateNested({ each: true })
  @Type(() => UsageSampleDto)
  samples?: UsageSampleDto[];
}
