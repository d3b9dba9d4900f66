import type { EntitySubscriberInterface, TransactionStartEvent } from 'typeorm';
import { RequestContext } from '../common/context/request-context';

/** Transaction-local setting read by the `events.actor` column default (see the IdentityAudit migration). */
export const ACTOR_SETTING = 'model_registry.actor';

/**
 * Registered on the data source by the audit module. Every transaction started while a caller is known (a mutating request, a scheduled job) first
 * records who the caller is, transaction-locally. The change feed's triggers insert events whose
 * `actor` column defaults to that setting, so every change event carries its actor without any code
 * path having to remember it, and without touching the triggers.
 */
export class ActorTransactionSubscriber implements EntitySubscriberInterface {
  async afterTransactionStart(event: TransactionStartEvent): Promise<void> {
    const context = RequestContext.current();
    if (!context) return;
    await event.queryRunner.query('SELECT set_config($1, $2, true)', [ACTOR_SETTING, context.actor.actor]);
  }
}
