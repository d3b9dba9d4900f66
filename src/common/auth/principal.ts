import type { Actor } from '../context/request-context';
import type { ModelRestriction } from './model-patterns';
import type { Scope } from '../../config/scopes';

/** An authenticated caller (or, with AUTH_REQUIRED=false and no credentials, the anonymous one). */
export interface Principal extends Actor {
  kind: Exclude<Actor['kind'], 'system'>;
  scopes: ReadonlySet<Scope>;
  /** Model-name globs the caller is limited to; null when it may touch every model. */
  models: ModelRestriction | null;
  expiresAt: Date | null;
}

export function hasAnyScope(principal: Principal, anyOf: readonly Scope[]): boolean {
  return principal.scopes.has('admin') || anyOf.some((scope) => principal.scopes.has(scope));
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook on routes that need a caller. */
    principal: Principal | null;
  }
}
