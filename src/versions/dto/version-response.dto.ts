import { ApiProperty } from '@nestjs/swagger';
import { LABELS_RESPONSE_PROPERTY } from '../../common/labels/label-api-properties';
import type { VersionRow } from '../versions.repository';

export class VersionResponseDto {
  @ApiProperty({ example: 1, type: 'integer' })
  id: number;

  @ApiProperty({ example: 1, type: 'integer' })
  model_id: number;

  @ApiProperty({ example: 'a1b2c3d4e5f6789012345678901234567890123456789012345678901234abcd' })
  hash: string;

  @ApiProperty({ example: '1.0.0' })
  version: string;

  @ApiProperty({ example: 'us-east-1', nullable: true, type: String })
  region: string | null;

  @ApiProperty({ example: 0.01, nullable: true, type: Number })
  cost_per_1k: number | null;

  @ApiProperty({ example: 0.92, nullable: true, type: Number })
  eval_score: number | null;

  @ApiProperty({ example: true })
  slo_ok: boolean;

  @ApiProperty({ description: 'Pinned versions are never archived or purged.', example: false })
  pinned: boolean;

  @ApiProperty({ example: 's3://models/gpt-4-turbo/v1.0.0/model.bin', nullable: true, type: String })
  artifact_uri: string | null;

  @ApiProperty({ description: 'Where retention put the archived copy of the artifact (set by the service only); null while live, and for an artifact archived in the database only.', example: null, nullable: true, type: String })
  archive_uri: string | null;

  @ApiProperty({ example: 5368709120, nullable: true, type: 'integer' })
  size_bytes: number | null;

  @ApiProperty({ example: 'llm', nullable: true, type: String })
  model_type: string | null;

  @ApiProperty({ example: 'pytorch', nullable: true, type: String })
  framework: string | null;

  @ApiProperty({ example: '2026-11-26T12:00:00.000Z', format: 'date-time' })
  created_at: string;

  @ApiProperty({ example: '2026-11-26T12:00:00.000Z', format: 'date-time' })
  updated_at: string;

  @ApiProperty({ description: 'Aliases pointing at this version.', example: ['production'], type: [String] })
  aliases: string[];

  @ApiProperty(LABELS_RESPONSE_PROPERTY)
  labels: Record<string, string>;

  @ApiProperty({ description: 'Lineage: where this version came from (an absolute URI).', example: 'runs:/3f9a2c1e8b7d4e6f/model', nullable: true, type: String })
  source: string | null;

  @ApiProperty({ description: 'Model card (a JSON object).', example: { summary: 'Fine-tuned for support' }, type: 'object', additionalProperties: true })
  metadata: Record<string, unknown>;

  @ApiProperty({ description: 'When retention archived this version; null while live.', example: null, nullable: true, type: String, format: 'date-time' })
  archived_at: string | null;

  static fromRow(row: VersionRow): VersionResponseDto {
    return {
      id: row.id,
      model_id: row.model_id,
      hash: row.hash,
      version: row.version,
      region: row.region,
      cost_per_1k: row.cost_per_1k,
      eval_score: row.eval_score,
      slo_ok: row.slo_ok,
      pinned: row.pinned,
      artifact_uri: row.artifact_uri,
      archive_uri: row.archive_uri,
      size_bytes: row.size_bytes,
      model_type: row.model_type,
      framework: row.framework,
      created_at: row.created_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
      archived_at: row.archived_at ? row.archived_at.toISOString() : null,
      aliases: row.aliases,
      labels: row.labels,
      source: row.source,
      metadata: row.metadata,
    };
  }
}

export class VersionPageDto {
  @ApiProperty({ type: [VersionResponseDto] })
  items: VersionResponseDto[];

  @ApiProperty({ description: 'Token for the next page, or null on the last page.', nullable: true, type: String, example: null })
  next_page_token: string | null;
}
