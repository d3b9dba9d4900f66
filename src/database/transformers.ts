import type { ValueTransformer } from 'typeorm';

/** numeric columns arrive as numbers (see pg-types.ts); this keeps TypeORM's own reads consistent. */
export const decimalTransformer: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : typeof value === 'number' ? value : Number.parseFloat(value)),
};
