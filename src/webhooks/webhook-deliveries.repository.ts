import { Injectable } from '@nestjs/common';
import { keyset, toPage, withDescending, type Page, type SortAllowList } from '../common/pagination/keyset';
import { PreparedStatements } from '../database/prepared-statements';
import { SqlConditions, type Queryable } from '../database/sql';
import type { EventCursor } from '../events/event-cursor';
import type { DeliveryOrigin, DeliveryStatus } from './webhook-delivery.entity';

export interface DeliveryRow {
  id: number;
  webhook_id: number;
  origin: DeliveryOrigin;
  message_id: string;
  event_id: number | null;
  event_type: string;
  event_cursor: string | null;
  occurred_at: Date;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date | null;
  give_up_at: Date;
  last_attempt_at: Date | null;
  last_response_code: number | null;
  last_duration_ms: number | null;
  last_response_body: string | null;
  last_error: string | null;
  delivered_at: Date | null;
  created_at: Date;
}

export type NewDelivery = Pick<DeliveryRow, 'webhook_id' | 'origin' | 'message_id' | 'event_id' | 'event_type' | 'event_cursor' | 'occurred_at'> & {
  /** The exact body to send. */
  payload: string;
};

/** A delivery claimed for sending, with what is needed to send it. */
export interface ClaimedDelivery {
  id: number;
  webhook_id: number;
  message_id: string;
  payload: string;
  attempts: number;
  origin: DeliveryOrigin;
  occurred_at: Date;
  url: string;
  secret_ciphertext: string;
  /** Set while a rotated-out secret still signs. */
  previous_secret_ciphertext: string | null;
}

export interface AttemptRecord {
  ok: boolean;
  statusCode: number | null;
  durationMs: number;
  responseBody: string | null;
  error: string | null;
}

interface CompletedRow {
  status: DeliveryStatus;
  occurred_at: Date;
  origin: DeliveryOrigin;
  disabled: boolean;
  next_id: number | null;
  next_message_id: string | null;
  next_payload: string | null;
  next_attempts: number | null;
  next_origin: DeliveryOrigin | null;
  next_occurred_at: Date | null;
  url: string;
  secret_ciphertext: string;
  previous_secret_ciphertext: string | null;
}

export interface CompletedDelivery {
  status: DeliveryStatus;
  occurred_at: Date;
  origin: DeliveryOrigin;
  /** This failure disabled the subscription (its attempts have failed for the whole disable threshold). */
  disabled: boolean;
  /** The subscription's next delivery, claimed with it (see COMPLETE_SQL). */
  next?: ClaimedDelivery;
}

const COLUMNS =
  'd.id, d.webhook_id, d.origin, d.message_id, d.event_id, d.event_type, d.event_cursor, d.occurred_at, d.status, d.attempts, d.next_attempt_at, ' +
  'd.give_up_at, d.last_attempt_at, d.last_response_code, d.last_duration_ms, d.last_response_body, d.last_error, d.delivered_at, d.created_at';

const SORTS: SortAllowList = withDescending({ created_at: { expression: 'd.created_at', cast: 'timestamptz' } });

const ms = (param: string) => `make_interval(secs => ${param}::float8 / 1000)`;

/**
 * Claims the due head of up to $1 subscriptions' queues. A subscription is claimed by locking its row
 * (SKIP LOCKED: replicas never wait for each other, and never take the same one) and leasing it until
 * now + $2 ms; only the first queued delivery of a subscription is a candidate, and only while no
 * lease is running, so its deliveries go out one at a time in queue order. Every condition is checked
 * again on the rows' latest versions by the UPDATEs, so a stale snapshot cannot claim twice. After a
 * crash, the lease lapses and the delivery (still `sending`) is claimed again: the same message id.
 */
export const CLAIM_SQL = `
  WITH candidates AS (
    SELECT w.id AS webhook_id, head.id AS delivery_id
      FROM webhooks w
      CROSS JOIN LATERAL (
        SELECT d.id, d.next_attempt_at FROM webhook_deliveries d
         WHERE d.webhook_id = w.id AND d.status IN ('pending', 'sending')
         ORDER BY d.id LIMIT 1) head
     WHERE w.enabled AND (w.lease_until IS NULL OR w.lease_until <= now()) AND head.next_attempt_at <= now()
     ORDER BY head.next_attempt_at, w.id
     LIMIT $1
     FOR NO KEY UPDATE OF w SKIP LOCKED),
  claimed AS (
    UPDATE webhook_deliveries d
       SET status = 'sending', attempts = d.attempts + 1, last_attempt_at = now(), next_attempt_at = now() + ${ms('$2')}
      FROM candidates c
     WHERE d.id = c.delivery_id AND d.status IN ('pending', 'sending') AND d.next_attempt_at <= now()
    RETURNING d.id, d.webhook_id, d.message_id, d.payload, d.attempts, d.origin, d.occurred_at),
  leased AS (
    UPDATE webhooks w SET lease_until = now() + ${ms('$2')}
      FROM claimed c WHERE w.id = c.webhook_id
    RETURNING w.id, w.url, w.secret_ciphertext,
              CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret_ciphertext END AS previous_secret_ciphertext)
  SELECT c.id, c.webhook_id, c.message_id, c.payload, c.attempts, c.origin, c.occurred_at, l.url, l.secret_ciphertext, l.previous_secret_ciphertext
    FROM claimed c JOIN leased l ON l.id = c.webhook_id`;

/**
 * Records an attempt's outcome, if the claim is still ours (same attempt number, still sending).
 * Failed: retried after $5 ms (never past give_up_at), or given up once give_up_at has passed; the
 * subscription's failure streak is kept, and a failure that ends $10 ms of failures disables it.
 * Delivered, and $11: the subscription's next queued delivery, if due, is claimed in the same statement
 * under a renewed lease ($12 ms) — one round trip instead of two per delivery of a busy subscription.
 * Otherwise the lease is released. The subscription row is locked first, in the same order as the claim.
 */
const COMPLETE_SQL = `
  WITH locked AS (SELECT id, enabled, failing_since FROM webhooks WHERE id = $1 FOR NO KEY UPDATE),
  d AS (
    UPDATE webhook_deliveries d
       SET status = CASE WHEN $4::boolean THEN 'delivered' WHEN now() >= d.give_up_at THEN 'failed' ELSE 'pending' END,
           next_attempt_at = CASE WHEN $4::boolean OR now() >= d.give_up_at THEN NULL ELSE LEAST(now() + ${ms('$5')}, d.give_up_at) END,
           last_response_code = $6, last_duration_ms = $7, last_response_body = $8, last_error = $9,
           delivered_at = CASE WHEN $4::boolean THEN now() END
      FROM locked
     WHERE d.id = $2 AND d.webhook_id = locked.id AND d.status = 'sending' AND d.attempts = $3
    RETURNING d.id, d.status, d.occurred_at, d.origin, d.last_attempt_at),
  verdict AS (
    SELECT l.id, (NOT $4::boolean AND l.enabled AND COALESCE(l.failing_since, d.last_attempt_at) <= now() - ${ms('$10')}) AS disable
      FROM locked l, d),
  next AS (
    SELECT n.id FROM webhook_deliveries n, locked l, d
     WHERE $4::boolean AND $11::boolean AND l.enabled AND n.webhook_id = l.id AND n.status IN ('pending', 'sending') AND n.id <> d.id
     ORDER BY n.id LIMIT 1),
  claimed AS (
    UPDATE webhook_deliveries n
       SET status = 'sending', attempts = n.attempts + 1, last_attempt_at = now(), next_attempt_at = now() + ${ms('$12')}
      FROM next
     WHERE n.id = next.id AND n.status IN ('pending', 'sending') AND n.next_attempt_at <= now()
    RETURNING n.id, n.webhook_id, n.message_id, n.payload, n.attempts, n.origin, n.occurred_at),
  w AS (
    UPDATE webhooks w
       SET lease_until = CASE WHEN EXISTS (SELECT 1 FROM claimed) THEN now() + ${ms('$12')} END,
           last_delivered_at = CASE WHEN $4::boolean THEN now() ELSE w.last_delivered_at END,
           failing_since = CASE WHEN $4::boolean THEN NULL ELSE COALESCE(w.failing_since, d.last_attempt_at) END,
           enabled = CASE WHEN v.disable THEN false ELSE w.enabled END,
           disabled_reason = CASE WHEN v.disable THEN 'consecutive_failures' ELSE w.disabled_reason END,
           disabled_at = CASE WHEN v.disable THEN now() ELSE w.disabled_at END
      FROM verdict v, d
     WHERE w.id = v.id
    RETURNING w.url, w.secret_ciphertext, CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret_ciphertext END AS previous_secret_ciphertext)
  SELECT d.status, d.occurred_at, d.origin, v.disable AS disabled,
         c.id AS next_id, c.message_id AS next_message_id, c.payload AS next_payload, c.attempts AS next_attempts, c.origin AS next_origin,
         c.occurred_at AS next_occurred_at, w.url, w.secret_ciphertext, w.previous_secret_ciphertext
    FROM d CROSS JOIN verdict v CROSS JOIN w LEFT JOIN claimed c ON true`;

@Injectable()
export class WebhookDeliveriesRepository {
  constructor(private readonly prepared: PreparedStatements) {}

  private db(manager?: Queryable): Queryable {
    return manager ?? this.prepared;
  }

  /** Queues deliveries in the given order, due now and given up `windowMs` from now. */
  async enqueue(deliveries: NewDelivery[], windowMs: number, manager: Queryable): Promise<DeliveryRow[]> {
    if (deliveries.length === 0) return [];
    const column = <K extends keyof NewDelivery>(key: K) => deliveries.map((delivery) => delivery[key]);
    return manager.query(
      `WITH d AS (
         INSERT INTO webhook_deliveries AS d (webhook_id, origin, message_id, event_id, event_type, event_cursor, occurred_at, payload, next_attempt_at, give_up_at)
         SELECT x.webhook_id, x.origin, x.message_id, x.event_id, x.event_type, x.event_cursor, x.occurred_at, x.payload, now(), now() + ${ms('$9')}
           FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::timestamptz[], $8::text[])
                WITH ORDINALITY AS x(webhook_id, origin, message_id, event_id, event_type, event_cursor, occurred_at, payload, n)
          ORDER BY x.n
         RETURNING *)
       SELECT ${COLUMNS} FROM d ORDER BY d.id`,
      [
        column('webhook_id'),
        column('origin'),
        column('message_id'),
        column('event_id'),
        column('event_type'),
        column('event_cursor'),
        column('occurred_at'),
        column('payload'),
        windowMs,
      ],
    );
  }

  /** Queues a copy of a finished delivery (same message id and body) at the end of its queue. */
  async requeueCopy(webhookId: number, deliveryId: number, windowMs: number, manager: Queryable): Promise<DeliveryRow> {
    const rows: DeliveryRow[] = await manager.query(
      `WITH d AS (
         INSERT INTO webhook_deliveries AS d (webhook_id, origin, message_id, event_id, event_type, event_cursor, occurred_at, payload, next_attempt_at, give_up_at)
         SELECT webhook_id, 'retry', message_id, event_id, event_type, event_cursor, occurred_at, payload, now(), now() + ${ms('$3')}
           FROM webhook_deliveries WHERE webhook_id = $1 AND id = $2
         RETURNING *)
       SELECT ${COLUMNS} FROM d`,
      [webhookId, deliveryId, windowMs],
    );
    return rows[0];
  }

  /** A delivery made outside the queue (a test), recorded with its outcome. */
  async recordFinished(delivery: NewDelivery, attempt: AttemptRecord, startedAt: Date, manager?: Queryable): Promise<DeliveryRow> {
    const rows: DeliveryRow[] = await this.db(manager).query(
      `WITH d AS (
         INSERT INTO webhook_deliveries AS d (webhook_id, origin, message_id, event_id, event_type, event_cursor, occurred_at, payload, status, attempts,
                                              give_up_at, last_attempt_at, last_response_code, last_duration_ms, last_response_body, last_error, delivered_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $9::boolean THEN 'delivered' ELSE 'failed' END, 1,
                 $10, $10, $11, $12, $13, $14, CASE WHEN $9::boolean THEN now() END)
         RETURNING *)
       SELECT ${COLUMNS} FROM d`,
      [
        delivery.webhook_id,
        delivery.origin,
        delivery.message_id,
        delivery.event_id,
        delivery.event_type,
        delivery.event_cursor,
        delivery.occurred_at,
        delivery.payload,
        attempt.ok,
        startedAt,
        attempt.statusCode,
        attempt.durationMs,
        attempt.responseBody,
        attempt.error,
      ],
    );
    return rows[0];
  }

  async claim(limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    return this.db().query(CLAIM_SQL, [limit, leaseMs]);
  }

  /** Records an attempt (see COMPLETE_SQL); `next`: also claim the subscription's next delivery, leased for `leaseMs`. */
  async complete(
    claimed: ClaimedDelivery,
    attempt: AttemptRecord,
    options: { retryDelayMs: number; disableAfterMs: number; next: boolean; leaseMs: number },
  ): Promise<CompletedDelivery | undefined> {
    const rows: CompletedRow[] = await this.db().query(COMPLETE_SQL, [
      claimed.webhook_id,
      claimed.id,
      claimed.attempts,
      attempt.ok,
      options.retryDelayMs,
      attempt.statusCode,
      attempt.durationMs,
      attempt.responseBody,
      attempt.error,
      options.disableAfterMs,
      options.next,
      options.leaseMs,
    ]);
    const row = rows[0];
    if (!row) return undefined;
    const { status, occurred_at, origin, disabled } = row;
    if (row.next_id === null) return { status, occurred_at, origin, disabled };
    return {
      status,
      occurred_at,
      origin,
      disabled,
      next: {
        id: row.next_id,
        webhook_id: claimed.webhook_id,
        message_id: row.next_message_id!,
        payload: row.next_payload!,
        attempts: row.next_attempts!,
        origin: row.next_origin!,
        occurred_at: row.next_occurred_at!,
        url: row.url,
        secret_ciphertext: row.secret_ciphertext,
        previous_secret_ciphertext: row.previous_secret_ciphertext,
      },
    };
  }

  async findById(webhookId: number, id: number, manager?: Queryable): Promise<DeliveryRow | undefined> {
    const rows: DeliveryRow[] = await this.db(manager).query(`SELECT ${COLUMNS} FROM webhook_deliveries d WHERE d.webhook_id = $1 AND d.id = $2`, [webhookId, id]);
    return rows[0];
  }

  async listPage<T>(webhookId: number, status: DeliveryStatus | undefined, sort: string, limit: number, pageToken: string | undefined, map: (row: DeliveryRow) => T): Promise<Page<T>> {
    const where = new SqlConditions().add('d.webhook_id = ?', webhookId).addIf(status !== undefined, 'd.status = ?', status);
    const page = keyset(sort, SORTS, 'd.id', pageToken, { webhook_id: webhookId, status });
    if (page.after) where.add(page.after.sql, ...page.after.params);
    const rows: (DeliveryRow & { sort_value: string })[] = await this.db().query(
      `SELECT ${COLUMNS}, ${page.sortValueSelect} FROM webhook_deliveries d ${where.where()} ORDER BY ${page.orderBy} LIMIT ${where.param(limit + 1)}`,
      where.params,
    );
    return toPage(rows, limit, sort, page.fingerprint, map);
  }

  /** Ids of the events a subscription still has queued (a replay does not queue them twice). */
  async queuedEventIds(webhookId: number, manager: Queryable): Promise<Set<number>> {
    const rows: { event_id: number }[] = await manager.query(
      `SELECT event_id FROM webhook_deliveries WHERE webhook_id = $1 AND status IN ('pending', 'sending') AND event_id IS NOT NULL`,
      [webhookId],
    );
    return new Set(rows.map((row) => row.event_id));
  }

  /** The dispatcher's position, if no other replica is dispatching (the lock is held until the transaction ends). */
  async lockDispatcher(manager: Queryable): Promise<EventCursor | undefined> {
    const rows: { tx_id: string; id: number }[] = await manager.query(
      'SELECT cursor_tx::text AS tx_id, cursor_id AS id FROM webhook_dispatcher_state FOR UPDATE SKIP LOCKED',
    );
    return rows[0] && { txId: rows[0].tx_id, id: rows[0].id };
  }

  /**
   * Waits for a dispatch in progress to end and keeps the dispatcher out until the transaction ends
   * (so a subscription created or changed meanwhile is seen by every later dispatch, and by none that
   * could have read its events before).
   */
  async holdDispatcher(manager: Queryable): Promise<void> {
    await manager.query('SELECT 1 FROM webhook_dispatcher_state FOR SHARE');
  }

  async dispatcherCursor(manager?: Queryable): Promise<EventCursor> {
    const rows: { tx_id: string; id: number }[] = await this.db(manager).query('SELECT cursor_tx::text AS tx_id, cursor_id AS id FROM webhook_dispatcher_state');
    return { txId: rows[0].tx_id, id: rows[0].id };
  }

  /**
   * Moves the dispatcher past `cursor`, and forgets the labels of models deleted by transactions it has
   * passed: all of them before the cursor's, and the cursor's own once its last events are dispatched
   * (`complete`: the batch ended before the limit, and a transaction's events are released together).
   */
  async advanceDispatcher(cursor: EventCursor, complete: boolean, manager: Queryable): Promise<void> {
    await manager.query('UPDATE webhook_dispatcher_state SET cursor_tx = $1::xid8, cursor_id = $2, dispatched_at = now()', [cursor.txId, cursor.id]);
    await manager.query(`DELETE FROM webhook_model_tombstones WHERE tx_id ${complete ? '<=' : '<'} $1::xid8`, [cursor.txId]);
  }

  /** Deletes finished deliveries older than `days`, in batches. Returns how many. */
  async pruneFinished(days: number): Promise<number> {
    let total = 0;
    for (;;) {
      const [, count]: [unknown, number] = await this.db().query(
        `DELETE FROM webhook_deliveries WHERE id IN (
           SELECT id FROM webhook_deliveries WHERE status IN ('delivered', 'failed') AND created_at < now() - make_interval(days => $1) LIMIT 5000)`,
        [days],
      );
      total += count;
      if (count < 5000) return total;
    }
  }

  async queueStats(): Promise<{ pending: number; oldest_age_s: number | null }> {
    const rows: { pending: number; oldest_age_s: number | null }[] = await this.db().query(
      `SELECT count(*)::int AS pending, extract(epoch FROM now() - min(created_at))::float8 AS oldest_age_s
         FROM webhook_deliveries WHERE status IN ('pending', 'sending')`,
    );
    return rows[0];
  }
}
