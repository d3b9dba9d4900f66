import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { selectorQueryProperty } from '../../common/labels/label-api-properties';
import { IsLabelSelector } from '../../common/labels/label.validators';
import { ToBoolean } from '../../common/validation/validators';

export class CatalogQueryDto {
  @ApiPropertyOptional({
    description:
      'Which version of each model to describe: an alias (models without it are left out), or `latest` (the newest live version with an active binding). ' +
      'Default: as resolve does — the `production` alias where the model has one, else the newest live version with an active binding.',
    example: 'production',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(/^[a-z0-9][a-z0-9_-]*$/, { message: 'must be a lowercase slug' })
  alias?: string;

  @ApiPropertyOptional({
    ...selectorQueryProperty('active bindings'),
    description: `${selectorQueryProperty('active bindings').description} A binding's labels are its model's, overridden by its version's, overridden by its own.`,
    example: 'team=search,tier in (gold,silver)',
  })
  @IsOptional()
  @IsLabelSelector()
  selector?: string;
}

export const CATALOG_FORMATS = ['json', 'yaml'] as const;

export class LiteLlmCatalogQueryDto extends CatalogQueryDto {
  @ApiPropertyOptional({ description: 'json, or yaml (a config.yaml fragment, application/yaml).', enum: CATALOG_FORMATS, default: 'json' })
  @IsOptional()
  @IsIn(CATALOG_FORMATS, { message: `must be one of ${CATALOG_FORMATS.join(', ')}` })
  format?: (typeof CATALOG_FORMATS)[number];
}

export class CatalogImportQueryDto {
  @ApiPropertyOptional({ description: 'true: answer the same report without changing anything.', type: Boolean, default: false })
  @IsOptional()
  @ToBoolean()
  @IsBoolean({ message: 'must be true or false' })
  dry_run?: boolean;
}
