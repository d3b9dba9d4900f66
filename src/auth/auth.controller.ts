import { Controller, Get, Inject, Req } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Authenticated } from '../common/auth/access.decorator';
import { ApiProblemResponses } from '../common/openapi/api-problem-responses.decorator';
import { securityConfig } from '../config/security.config';
import { WhoAmIDto } from './dto/whoami.dto';

@ApiTags('security')
@Controller('auth')
export class AuthController {
  constructor(@Inject(securityConfig.KEY) private readonly config: ConfigType<typeof securityConfig>) {}

  @Get('whoami')
  @Authenticated()
  @ApiOperation({
    operationId: 'whoAmI',
    summary: "The caller's identity, scopes and model restriction",
    description: 'Who the credentials sent identify (an API key, an OIDC subject, the bootstrap key, or anonymous when authentication is off), with the scopes and model patterns they carry.',
  })
  @ApiOkResponse({ type: WhoAmIDto, description: 'The caller.' })
  @ApiProblemResponses()
  whoAmI(@Req() request: FastifyRequest): WhoAmIDto {
    return WhoAmIDto.of(request.principal!, this.config.authRequired);
  }
}
