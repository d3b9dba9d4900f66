import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AliasesController } from './aliases.controller';
import { AliasesRepository } from './aliases.repository';
import { AliasesService } from './aliases.service';
import { ModelAliasEntity } from './model-alias.entity';

@Module({
  imports: [TypeOrmModule.forFeature([ModelAliasEntity])],
  controllers: [AliasesController],
  providers: [AliasesService, AliasesRepository],
})
export class AliasesModule {}
