import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatabaseModule } from '../database/database.module';
import { ModelVersionEntity } from './model-version.entity';
import { VersionsController } from './versions.controller';
import { VersionsRepository } from './versions.repository';
import { VersionsService } from './versions.service';

@Module({
  imports: [TypeOrmModule.forFeature([ModelVersionEntity]), DatabaseModule],
  controllers: [VersionsController],
  providers: [VersionsService, VersionsRepository],
  exports: [VersionsService, VersionsRepository],
})
export class VersionsModule {}
