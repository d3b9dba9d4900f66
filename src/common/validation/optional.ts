import { ValidateIf } from 'class-validator';

/**
 * Optional, but when present it must be valid — unlike class-validator's IsOptional, an explicit
 * null is validated (and so rejected) rather than skipped. For fields that can be omitted but never
 * cleared.
 */
export const IsOptionalButNotNull = () => ValidateIf((_object, value) => value !== undefined);
