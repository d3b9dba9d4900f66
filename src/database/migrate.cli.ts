import 'reflect-metadata';
import { openCliDatabase } from './cli-data-source';
import { runMigrationsExclusively } from './migration-runner';

/**
 * `npm run migration:run` (or `node dist/database/migrate.cli.js` in the image): applies pending
 * migrations under the same advisory lock the service takes at startup, so it is safe to run while
 * replicas start.
 */
async function main(): Promise<void> {
  const { dataSource, embedded } = await openCliDatabase();
  try {
    await dataSource.initialize();
    const { applied } = await runMigrationsExclusively(dataSource);
    console.log(applied.length > 0 ? `Applied ${applied.length} migration(s): ${applied.join(', ')}` : 'No pending migrations.');
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
