import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString } from 'class-validator';
import { IsOptionalButNotNull } from '../../common/validation/optional';
import { IsProviderModelId, IsSlug } from '../../common/validation/validators';
import { BindingFieldsDto } from './create-binding.dto';

/** Partial update. `version_id` is immutable: it may be sent only with its current value. */
export class UpdateBindingDto extends BindingFieldsDto {
  @ApiPropertyOptional({ description: 'Immutable: accepted only with its current value.', type: 'integer' })
  @IsOptional()
  @IsInt({ message: 'must be an integer' })
  version_id?: number;

  @ApiPropertyOptional({ description: 'Provider slug.', example: 'openai', maxLength: 64 })
  @IsOptionalButNotNull()
  @IsString()
  @IsSlug()
  provider?: string;

  @ApiPropertyOptional({ description: "The provider's identifier for the model.", example: 'gpt-4-0125-preview', maxLength: 256 })
  @IsOptionalButNotNull()
  @IsString()
  @IsProviderModelId()
  provider_model_id?: string;
}
