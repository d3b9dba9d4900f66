import { registerAs } from '@nestjs/config';
import { parseEnvironment, type Environment } from './environment';

export function retentionConfigFrom(env: Environment) {
  return { defaultRetentionCount: env.DEFAULT_RETENTION_COUNT };
}

export const retentionConfig = registerAs('retention', () => retentionConfigFrom(parseEnvironment()));
export type RetentionConfig = ReturnType<typeof retentionConfigFrom>;
