type Recorder = (seconds: number, operation: string) => void;
interface Patched {
  recorder: Recorder;
}

const PATCHED = Symbol.for('model-registry.pg-query-duration');
const OPERATIONS = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'WITH', 'BEGIN', 'COMMIT', 'ROLLBACK', 'SAVEPOINT', 'RELEASE', 'SET', 'SHOW', 'CREATE', 'ALTER', 'DROP']);

/** Query texts are the statements' shapes (values are parameters): few, so their operations are remembered. */
const MAX_REMEMBERED_TEXTS = 1_000;
const operations = new Map<string, string>();

/** The statement's first keyword, from a fixed set (a metric label must stay low-cardinality). */
export function operationOf(text: unknown): string {
  if (typeof text !== 'string') return 'OTHER';
  let operation = operations.get(text);
  if (operation === undefined) {
    const word = /^\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase();
    operation = word && OPERATIONS.has(word) ? word : 'OTHER';
    if (operations.size < MAX_REMEMBERED_TEXTS) operations.set(text, operation);
  }
  return operation;
}

/**
 * Times every query run through `pg`'s Client (pools and TypeORM use it), callback or promise style.
 * Installed once per pg module copy; a later call only replaces the recorder.
 */
export function measurePgQueryDuration(pg: { Client: { prototype: object } }, recorder: Recorder): void {
  const prototype = pg.Client.prototype as { query: (...args: unknown[]) => unknown; [PATCHED]?: Patched };
  const existing = prototype[PATCHED];
  if (existing) {
    existing.recorder = recorder;
    return;
  }
  const state: Patched = { recorder };
  const original = prototype.query;
  prototype.query = function measuredQuery(this: unknown, ...args: unknown[]) {
    // performance.now(): a double, where hrtime.bigint() allocates BigInts on every query.
    const started = performance.now();
    const first = args[0] as string | { text?: string } | undefined;
    const operation = operationOf(typeof first === 'string' ? first : first?.text);
    const done = () => {
      try {
        state.recorder((performance.now() - started) / 1e3, operation);
      } catch {
        // Telemetry never fails a query.
      }
    };
    const last = args.length - 1;
    if (typeof args[last] === 'function') {
      const callback = args[last] as (...results: unknown[]) => unknown;
      args[last] = function measuredCallback(this: unknown, ...results: unknown[]) {
        done();
        return callback.apply(this, results);
      };
      return original.apply(this, args);
    }
    const result = original.apply(this, args);
    if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(done, done);
    return result;
  };
  prototype[PATCHED] = state;
}
