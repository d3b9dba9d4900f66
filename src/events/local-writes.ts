import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RegistryChanges } from './registry-changes';

const ANNOUNCED = Symbol('model-registry.write-announces-itself');
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Marks a write whose changes write no change-feed events and which tells RegistryChanges itself,
 * before answering, what it changed (usage reports): it needs no read-your-writes round trip.
 */
export function writeAnnouncesItself(request: FastifyRequest): void {
  (request as unknown as Record<symbol, boolean>)[ANNOUNCED] = true;
}

/**
 * Fastify onSend hook: a write request is about to be answered, after its transaction committed. It is
 * counted, so that this replica's resolve cache, before it answers from memory again, makes sure the
 * write's notification has been handled: a client reading after its own write through the same
 * replica never gets the answer from before it.
 */
export function countLocalWrites(changes: RegistryChanges) {
  return (request: FastifyRequest, _reply: FastifyReply, payload: unknown, done: (error: Error | null, payload?: unknown) => void): void => {
    if (!READS.has(request.method) && (request as unknown as Record<symbol, boolean>)[ANNOUNCED] !== true) changes.noteLocalWrite();
    done(null, payload);
  };
}
