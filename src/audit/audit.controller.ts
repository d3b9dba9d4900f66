import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireScope } from '../common/auth/access.decorator';
import { ApiProblemResponses } from '../common/openapi/api-problem-responses.decorator';
import { AuditLog } from './audit-log.service';
import { AuditPageDto, ListAuditQueryDto } from './dto/audit-entry.dto';

@ApiTags('security')
@Controller('audit')
export class AuditController {
  constructor(private readonly audit: AuditLog) {}

  @Get()
  @RequireScope('admin', 'none')
  @ApiOperation({
    operationId: 'listAuditEntries',
    summary: 'The audit log: every change, who made it, and what changed (filtered, keyset-paginated)',
    description: 'One entry per mutation, written in the same transaction as the change. Append-only: entries leave only when older than AUDIT_RETENTION_DAYS.',
  })
  @ApiOkResponse({ type: AuditPageDto, description: 'A page of audit entries.' })
  @ApiProblemResponses(400)
  listAuditEntries(@Query() query: ListAuditQueryDto): Promise<AuditPageDto> {
    const { limit, page_token, sort, ...filter } = query;
    return this.audit.list(filter, sort, limit, page_token);
  }
}
