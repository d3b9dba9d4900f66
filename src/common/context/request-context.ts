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
/** Contexts entered and not yet left. */
let active = 0;

/** Once no context is active, the storage is switched off: see below. */
function leave(): void {
  active--;
  if (active === 0) storage.disable();
}

/**
 * The caller of the work in progress, carried across awaits. Set for mutating requests (after
 * authentication) and for scheduled jobs; reads do not need it.
 *
 * On Node.js 20 an enabled AsyncLocalStorage tracks every promise of the process, which cost the
 * resolve hot path about 10 % of its CPU in our measurements. So the storage is on only while some
 * work that needs it is in progress: entering a context enables it, and leaving the last one disables
 * it again. Work must therefore enter through `run` or `enter`, which count it.
 */
export const RequestContext = {
  /** Runs `work` (to its end, awaits included) with `store` as the context. */
  async run<T>(store: RequestContextStore, work: () => Promise<T>): Promise<T> {
    active++;
    try {
      return await storage.run(store, work);
    } finally {
      leave();
    }
  },

  /**
   * Calls `continuation` (a hook's `done`) with `store` as the context, for work whose end is
   * signalled later: call the returned function once, when it has ended (the response is sent).
   */
  enter(store: RequestContextStore, continuation: () => void): () => void {
    active++;
    let left = false;
    storage.run(store, continuation);
    return () => {
      if (left) return;
      left = true;
      leave();
    };
  },

  current(): RequestContextStore | undefined {
    return storage.getStore();
  },
};
