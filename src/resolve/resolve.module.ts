import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { ResolveController } from './resolve.controller';
import { ResolveRepository } from './resolve.repository';
import { ResolveService } from './resolve.service';

@Module({
  imports: [DatabaseModule],
  controllers: [ResolveController],
  providers: [ResolveService, ResolveRepository],
})
export class ResolveModule {}
