import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { EventsModule } from '../events/events.module';
import { ResolveCache } from './resolve-cache';
import { ResolveController } from './resolve.controller';
import { ResolveRepository } from './resolve.repository';
import { ResolveService } from './resolve.service';

@Module({
  imports: [DatabaseModule, EventsModule],
  controllers: [ResolveController],
  providers: [ResolveService, ResolveRepository, ResolveCache],
})
export class ResolveModule {}
