import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Etag } from '../common/http/etag.hook';
import { ApiProblemResponses } from '../common/openapi/api-problem-responses.decorator';
import { PageQueryDto } from '../common/pagination/page-query.dto';
import { IdParamDto } from '../common/validation/id-param.dto';
import { VersionResponseDto } from '../versions/dto/version-response.dto';
import { ApplyRetentionDto } from './dto/apply-retention.dto';
import { RetentionReportDto } from './dto/retention-report.dto';
import { RetentionRunDto, RetentionRunPageDto } from './dto/retention-run.dto';
import { RetentionStatsDto } from './dto/retention-stats.dto';
import { RetentionQueries } from './retention.queries';
import { RetentionService } from './retention.service';
import { ModelIn, RequireScope, RestrictedModels } from '../common/auth/access.decorator';
import type { ModelRestriction } from '../common/auth/model-patterns';

@ApiTags('retention')
@Controller()
export class RetentionController {
  constructor(
    private readonly retention: RetentionService,
    private readonly queries: RetentionQueries,
  ) {}

  @Post('retention/apply')
  @HttpCode(200)
  @RequireScope('retention:run', [ModelIn.modelId('body', 'model_id', 'forbid')])
  @ApiOperation({
    operationId: 'applyRetention',
    summary: 'Apply the retention policy now (or preview it with dry_run)',
    description:
      'Keeps the newest N live versions of each model; of the older ones, pinned versions and versions with an active binding are kept too, and the rest are archived. ' +
      'With purge, versions archived more than RETENTION_PURGE_DAYS ago are deleted. Applying twice changes nothing the second time. ' +
      'Artifacts are moved only from inside ARTIFACT_ROOTS; others are archived in the database only (reason outside_artifact_roots or unsafe_path), and an artifact a live version still uses is copied, not moved (shared_artifact).',
  })
  @ApiOkResponse({ type: RetentionReportDto, description: 'What the run kept, archived, purged or failed to archive (or would, in a dry run).' })
  @ApiProblemResponses(400, 404, 409, 413, 415)
  async applyRetention(@Body() dto: ApplyRetentionDto): Promise<RetentionReportDto> {
    return (await this.retention.apply({
      trigger: 'manual',
      modelId: dto.model_id,
      retentionCount: dto.retention_count,
      dryRun: dto.dry_run ?? false,
      purge: dto.purge ?? false,
    }))!;
  }

  @Get('retention/stats')
  @RequireScope(['registry:read', 'retention:run'], 'unrestricted')
  @ApiOperation({
    operationId: 'getRetentionStats',
    summary: 'Retention totals, versions eligible now, recent runs and the next scheduled run',
    description: 'Live, archived and purged totals, bytes in the archive, the models with the most versions a run would archive now, the policy, the schedule and the last 10 runs.',
  })
  @ApiOkResponse({ type: RetentionStatsDto, description: 'The retention figures.' })
  getRetentionStats(): Promise<RetentionStatsDto> {
    return this.queries.stats();
  }

  @Get('retention/runs')
  @RequireScope('retention:run', 'list')
  @ApiOperation({
    operationId: 'listRetentionRuns',
    summary: 'Every retention run, newest first',
    description: 'Manual and scheduled runs, dry or real, with their counts and failures. Pass `next_page_token` back as `page_token` for the next page.',
  })
  @ApiOkResponse({ type: RetentionRunPageDto, description: 'One page of runs.' })
  @ApiProblemResponses(400)
  listRetentionRuns(@Query() query: PageQueryDto, @RestrictedModels() restriction?: ModelRestriction): Promise<RetentionRunPageDto> {
    return this.queries.listRuns(query.limit, query.page_token, restriction);
  }

  @Get('retention/runs/:id')
  @RequireScope('retention:run', [ModelIn.retentionRunId('params', 'id')])
  @ApiOperation({ operationId: 'getRetentionRun', summary: 'One retention run, with its failures', description: 'The run as recorded: trigger, status, counts and up to 100 failures.' })
  @ApiOkResponse({ type: RetentionRunDto, description: 'The run.' })
  @ApiProblemResponses(400, 404)
  getRetentionRun(@Param() { id }: IdParamDto): Promise<RetentionRunDto> {
    return this.queries.getRun(id);
  }

  @Post('versions/:id/restore')
  @HttpCode(200)
  @Etag()
  @ApiTags('versions')
  @RequireScope('registry:manage', [ModelIn.versionId('params', 'id')])
  @ApiOperation({
    operationId: 'restoreVersion',
    summary: 'Bring an archived (not yet purged) version back: artifact and row',
    description:
      'With archive storage, the archive copy is put back at the version\'s own artifact_uri first (only inside ARTIFACT_ROOTS). Nothing is ever overwritten: if something exists there, the answer is 409 artifact-exists and nothing changes. ' +
      'A Glacier object must be restored by S3 first: the answer is then 409 with restore_pending, and S3 has been asked to restore it.',
  })
  @ApiOkResponse({ type: VersionResponseDto, description: 'The restored, live version.' })
  @ApiProblemResponses(400, 404, 409)
  restoreVersion(@Param() { id }: IdParamDto): Promise<VersionResponseDto> {
    return this.retention.restore(id);
  }
}
