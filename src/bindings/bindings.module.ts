import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatabaseModule } from '../database/database.module';
import { EventsModule } from '../events/events.module';
import { BindingsController } from './bindings.controller';
import { BindingsRepository } from './bindings.repository';
import { BindingsService } from './bindings.service';
import { ProviderBindingEntity } from './provider-binding.entity';

@Module({
  imports: [TypeOrmModule.forFeature([ProviderBindingEntity]), DatabaseModule, EventsModule],
  controllers: [BindingsController],
  providers: [BindingsService, BindingsRepository],
  exports: [BindingsService, BindingsRepository],
})
export class BindingsModule {}
