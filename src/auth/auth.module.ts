import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatabaseModule } from '../database/database.module';
import { ApiKeyEntity } from './api-key.entity';
import { ApiKeyCache } from './api-key.cache';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';
import { AuthController } from './auth.controller';
import { AuthHooks } from './auth.hooks';
import { Authenticator } from './authenticator';
import { ModelAccess } from './model-access';
import { OidcVerifier } from './oidc.verifier';

/** Identities (API keys, OIDC tokens), their enforcement on every route, and the rate limit. */
@Module({
  imports: [TypeOrmModule.forFeature([ApiKeyEntity]), DatabaseModule],
  controllers: [AuthController, ApiKeysController],
  providers: [ApiKeysRepository, ApiKeysService, ApiKeyCache, OidcVerifier, Authenticator, ModelAccess, AuthHooks],
  exports: [AuthHooks],
})
export class AuthModule {}
