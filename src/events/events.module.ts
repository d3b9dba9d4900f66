import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { EventStream } from './event-stream';
import { EventsController } from './events.controller';
import { EventsRepository } from './events.repository';
import { EventsService } from './events.service';
import { FeedHorizonMonitor } from './feed-monitor';
import { RegistryChanges } from './registry-changes';

@Module({
  imports: [DatabaseModule],
  controllers: [EventsController],
  providers: [EventsService, EventsRepository, EventStream, FeedHorizonMonitor, RegistryChanges],
  exports: [EventsService, EventsRepository, RegistryChanges],
})
export class EventsModule {}
