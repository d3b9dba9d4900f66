import { AsyncLocalStorage } from 'node:async_hooks';

export type ActorKind = 'api_key' | 'oidc' | 'bootstrap' | 'anonymous' | 'metrics' | 'system';

/** Who is making a change: written to audit rows and, through the transaction, to change events. */
export interface Actor {
  kind: ActorKind;
  /** Stable identity: `api_key:12`, `oidc:<subject>`, `bootstrap`, `anonymous`, `system:<job>`. */
  actor: string;
  keyId: number | null;
  /** The API key's name. */
  name: string | null;
  /** The OIDC subject. */
  subject: string | null;
}

export interface RequestContextStore {
  actor: Actor;
  requestId: string | null;
}

export const systemActor = (job: string): Actor => ({ kind: 'system', actor: `system:${job}`, keyId: null, name: null, subject: null });

const storage = new AsyncLocalStorage<RequestContextStore>();

/**
 * The caller of the work in progress, carried across awaits. Set for mutating requests (after
 * authentication) and for scheduled jobs; reads do not need it, so the hot path does not pay for it.
 */
export const RequestContext = {
  run<T>(store: RequestContextStore, work: () => T): T {
    return storage.run(store, work);
  },
  current(): RequestContextStore | undefined {
    return storage.getStore();
  },
};
