import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { EventCursor } from './event-cursor';

export interface EventRow {
  id: number;
  tx_id: string;
  occurred_at: Date;
  type: string;
  model_id: number | null;
  version_id: number | null;
  binding_id: number | null;
  alias: string | null;
  data: Record<string, unknown>;
  actor: string | null;
}

/**
 * Events become visible in the order of their transactions, and only once every transaction that
 * started writing before them has ended (tx_id below the oldest running transaction): so a reader that
 * remembers (tx_id, id) never skips an event committed later by a slower transaction.
 */
const RELEASED = 'tx_id < pg_snapshot_xmin(pg_current_snapshot())';

@Injectable()
export class EventsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** `modelNameLike`: only events of models whose names match one of these LIKE patterns. */
  async after(cursor: EventCursor, limit: number, modelNameLike?: string[]): Promise<EventRow[]> {
    const restricted = modelNameLike ? ' AND model_id IN (SELECT id FROM models WHERE name LIKE ANY($4::text[]))' : '';
    return this.dataSource.query(
      `SELECT id, tx_id::text AS tx_id, occurred_at, type, model_id, version_id, binding_id, alias, data, actor
         FROM events
        WHERE (tx_id, id) > ($1::xid8, $2::bigint) AND ${RELEASED}${restricted}
        ORDER BY tx_id, id LIMIT $3`,
      modelNameLike ? [cursor.txId, cursor.id, limit, modelNameLike] : [cursor.txId, cursor.id, limit],
    );
  }

  /** The position after the last released event. */
  async head(): Promise<EventCursor | undefined> {
    const rows: { tx_id: string; id: number }[] = await this.dataSource.query(
      `SELECT tx_id::text AS tx_id, id FROM events WHERE ${RELEASED} ORDER BY tx_id DESC, id DESC LIMIT 1`,
    );
    return rows[0] && { txId: rows[0].tx_id, id: rows[0].id };
  }

  /** How far pruning has deleted: a cursor before this may have missed events. */
  async prunedThrough(): Promise<EventCursor | undefined> {
    const rows: { tx_id: string; id: number }[] = await this.dataSource.query(
      'SELECT pruned_through_tx::text AS tx_id, pruned_through_id AS id FROM event_feed_state',
    );
    return rows[0] && { txId: rows[0].tx_id, id: rows[0].id };
  }

  /** Whether `a` is before `b` in feed order (compared by PostgreSQL: xid8 values exceed 2^53). */
  async isBefore(a: EventCursor, b: EventCursor): Promise<boolean> {
    const rows: { before: boolean }[] = await this.dataSource.query('SELECT ($1::xid8, $2::bigint) < ($3::xid8, $4::bigint) AS before', [a.txId, a.id, b.txId, b.id]);
    return rows[0].before;
  }

  /** Deletes released events older than `days` and moves the pruning watermark. Returns how many. */
  async prune(days: number): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const rows: { n: number }[] = await manager.query(
        `WITH gone AS (
           DELETE FROM events WHERE occurred_at < now() - make_interval(days => $1) AND ${RELEASED} RETURNING tx_id, id),
         last AS (SELECT tx_id, id FROM gone ORDER BY tx_id DESC, id DESC LIMIT 1),
         mark AS (
           INSERT INTO event_feed_state (singleton, pruned_through_tx, pruned_through_id)
           SELECT true, tx_id, id FROM last
           ON CONFLICT (singleton) DO UPDATE SET pruned_through_tx = EXCLUDED.pruned_through_tx, pruned_through_id = EXCLUDED.pruned_through_id
             WHERE (event_feed_state.pruned_through_tx, event_feed_state.pruned_through_id) < (EXCLUDED.pruned_through_tx, EXCLUDED.pruned_through_id))
         SELECT count(*)::int AS n FROM gone`,
        [days],
      );
      return rows[0].n;
    });
  }
}
