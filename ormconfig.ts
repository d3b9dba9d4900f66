/**
 * The DataSource for the TypeORM CLI (`npm run migration:generate -- migrations/Name`). It reads the
 * same environment as the service; without POSTGRES_HOST it starts the embedded server.
 */
import 'reflect-metadata';
import { openCliDatabase } from './src/database/cli-data-source';

export default openCliDatabase().then(({ dataSource }) => dataSource);
