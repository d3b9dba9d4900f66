import { Logger, Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Clock } from '../common/clock';
import { retentionConfig } from '../config/retention.config';
import { EventsModule } from '../events/events.module';
import { ModelsModule } from '../models/models.module';
import { VersionsModule } from '../versions/versions.module';
import { ArchiveOperations } from './archive-operations';
import { RetentionController } from './retention.controller';
import { RetentionJournalEntity } from './retention-journal.entity';
import { JournalRepository } from './retention-journal.repository';
import { RetentionQueries } from './retention.queries';
import { RetentionRepository } from './retention.repository';
import { RetentionRunEntity } from './retention-run.entity';
import { RetentionScheduler } from './retention.scheduler';
import { RetentionService } from './retention.service';
import { ARCHIVE_STORAGE, type ArchiveStorage } from './storage/archive-storage';
import { FileArchiveStorage } from './storage/file.storage';
import { RecordOnlyStorage } from './storage/none.storage';
import { supportsDescriptorPaths } from './storage/safe-fs';
import { createS3Client, S3ArchiveStorage } from './storage/s3.storage';

export async function createArchiveStorage(config: ConfigType<typeof retentionConfig>): Promise<ArchiveStorage> {
  const archive = config.archive;
  const unused = archive.storage === 'file' || archive.storage === 's3' ? archive.artifactRoots.filter((root) => root.scheme !== archive.storage) : [];
  if (unused.length > 0) {
    new Logger('Retention').warn(
      `ARTIFACT_ROOTS ${unused.map((root) => root.prefix).join(', ')} cannot be used with ARCHIVE_STORAGE=${archive.storage}: artifacts there are archived in the database only (outside_artifact_roots)`,
    );
  }
  switch (archive.storage) {
    case 'file':
      // Walking paths without following symlinks needs /proc/self/fd (Linux): refuse to start without it.
      if (archive.artifactRoots.length > 0 && !(await supportsDescriptorPaths())) {
        throw new Error('ARCHIVE_STORAGE=file with ARTIFACT_ROOTS needs Linux (/proc/self/fd) to move files without following symbolic links');
      }
      return new FileArchiveStorage(archive.dir, archive.artifactRoots);
    case 's3':
      return new S3ArchiveStorage({
        bucket: archive.bucket!,
        keyPrefix: archive.keyPrefix,
        storageClass: archive.storageClass,
        client: createS3Client(archive.s3),
        roots: archive.artifactRoots,
      });
    default:
      return new RecordOnlyStorage(archive.uriPrefix);
  }
}

@Module({
  imports: [TypeOrmModule.forFeature([RetentionRunEntity, RetentionJournalEntity]), ModelsModule, VersionsModule, EventsModule],
  controllers: [RetentionController],
  providers: [
    RetentionService,
    RetentionQueries,
    RetentionRepository,
    JournalRepository,
    ArchiveOperations,
    RetentionScheduler,
    Clock,
    { provide: ARCHIVE_STORAGE, inject: [retentionConfig.KEY], useFactory: createArchiveStorage },
  ],
  exports: [RetentionService, RetentionRepository],
})
export class RetentionModule {}
