import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblemResponses } from '../common/openapi/api-problem-responses.decorator';
import { StatsQueryDto } from './dto/stats-query.dto';
import { StatsResponseDto } from './dto/stats-response.dto';
import { StatsService } from './stats.service';
import { RequireScope, ModelIn } from '../common/auth/access.decorator';

@ApiTags('stats')
@Controller('stats')
export class StatsController {
  constructor(private readonly stats: StatsService) {}

  @Get()
  @RequireScope('registry:read', [ModelIn.modelId('query', 'model_id', 'forbid')])
  @ApiOperation({
    operationId: 'getStats',
    summary: 'Registry statistics: counts, score and cost summaries, SLO compliance, retention totals',
    description: 'Kept fast at any catalog size: counts come from counters maintained in the same transactions as the data, minimums and maximums from indexes.',
  })
  @ApiOkResponse({ type: StatsResponseDto, description: 'The statistics, for the whole registry or the model asked for.' })
  @ApiProblemResponses(400, 404)
  getStats(@Query() query: StatsQueryDto): Promise<StatsResponseDto> {
    return this.stats.get(query.model_id);
  }
}
