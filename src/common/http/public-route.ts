import { SetMetadata } from '@nestjs/common';

/** Metadata key of {@link Public}: read by the OpenAPI document (and by an authentication guard). */
export const PUBLIC_ROUTE = 'model-registry:public-route';

/**
 * Marks a controller or route that anyone may call without credentials (probes, problem type
 * documentation, metrics). Every other operation is documented as requiring a bearer token, with
 * 401 and 403 responses.
 */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
