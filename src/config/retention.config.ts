import * as path from 'node:path';
import { registerAs } from '@nestjs/config';
import { parseEnvironment, type Environment } from './environment';

export function retentionConfigFrom(env: Environment, cwd = process.cwd()) {
  return {
    defaultRetentionCount: env.DEFAULT_RETENTION_COUNT,
    enabled: env.RETENTION_ENABLED,
    cron: env.RETENTION_CRON,
    purgeDays: env.RETENTION_PURGE_DAYS,
    batchSize: env.RETENTION_BATCH_SIZE,
    archive: {
      storage: env.ARCHIVE_STORAGE,
      uriPrefix: env.ARCHIVE_URI_PREFIX,
      dir: path.resolve(cwd, env.ARCHIVE_DIR),
      bucket: env.ARCHIVE_BUCKET,
      keyPrefix: env.ARCHIVE_KEY_PREFIX ?? '',
      storageClass: env.ARCHIVE_STORAGE_CLASS,
      copyConcurrency: env.ARCHIVE_COPY_CONCURRENCY,
      /** Where the service may move and delete artifacts (ARTIFACT_ROOTS); empty: nowhere. */
      artifactRoots: env.ARTIFACT_ROOTS,
      s3: { endpoint: env.S3_ENDPOINT, region: env.S3_REGION, forcePathStyle: env.S3_FORCE_PATH_STYLE },
    },
  };
}

export const retentionConfig = registerAs('retention', () => retentionConfigFrom(parseEnvironment()));
export type RetentionConfig = ReturnType<typeof retentionConfigFrom>;
export type ArchiveConfig = RetentionConfig['archive'];
