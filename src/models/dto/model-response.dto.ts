import { ApiProperty } from '@nestjs/swagger';
import { LABELS_RESPONSE_PROPERTY } from '../../common/labels/label-api-properties';
import type { ModelRow } from '../models.repository';

export class ModelResponseDto {
  @ApiProperty({ example: 1, type: 'integer' })
  id: number;

  @ApiProperty({ example: 'gpt-4-turbo' })
  name: string;

  @ApiProperty({ example: 'generation' })
  task: string;

  @ApiProperty({ example: 'general' })
  subject: string;

  @ApiProperty({ example: 'GPT-4 Turbo model for general text generation', nullable: true, type: String })
  description: string | null;

  @ApiProperty({ description: 'Versions retention keeps for this model; null: the service default.', example: null, nullable: true, type: 'integer' })
  retention_count: number | null;

  @ApiProperty({
    description: 'Aliases: name → version id.',
    example: { production: 3, staging: 4 },
    type: 'object',
    additionalProperties: { type: 'integer' },
  })
  aliases: Record<string, number>;

  @ApiProperty(LABELS_RESPONSE_PROPERTY)
  labels: Record<string, string>;

  @ApiProperty({ example: '2026-11-26T12:00:00.000Z', format: 'date-time' })
  created_at: string;

  @ApiProperty({ example: '2026-11-26T12:00:00.000Z', format: 'date-time' })
  updated_at: string;

  static fromRow(row: ModelRow): ModelResponseDto {
    return {
      id: row.id,
      name: row.name,
      task: row.task,
      subject: row.subject,
      description: row.description,
      retention_count: row.retention_count,
      aliases: row.aliases,
      labels: row.labels,
      created_at: row.created_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
    };
  }
}

export class ModelPageDto {
  @ApiProperty({ type: [ModelResponseDto] })
  items: ModelResponseDto[];

  @ApiProperty({ description: 'Token for the next page, or null on the last page.', nullable: true, type: String, example: null })
  next_page_token: string | null;
}
