import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PreparedStatements } from '../database/prepared-statements';
import type { EventCursor } from './event-cursor';
import { FEED_HORIZON, RELEASED } from './feed-horizon';

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
  /** The model's current name; null when the event has no model or the model is gone. */
  model_name: string | null;
}

/** What holds the feed back right now (see FEED_HORIZON). */
export interface HorizonStatus {
  /** The transaction at the horizon, when one is in progress; its session fields are null once it has ended. */
  holder: {
    xid: string;
    pid: number | null;
    database: string | null;
    user: string | null;
    application_name: string | null;
    backend_type: string | null;
    prepared_gid: string | null;
    /** Seconds since it began (or was prepared); null when its start is not visible to this role. */
    age_s: number | null;
  } | null;
  /** Committed events waiting behind the horizon. */
  unreleased: number;
  oldest_unreleased_age_s: number | null;
}

/**
 * A page of released events after a cursor, each with its model's current name (null once the model
 * is gone): a model-restricted caller sees only the events of models whose names it may see.
 */
const eventsAfter = (restricted: boolean) => `
WITH ${FEED_HORIZON}
SELECT e.id, e.tx_id::text AS tx_id, e.occurred_at, e.type, e.model_id, e.version_id, e.binding_id, e.alias, e.data, e.actor, m.name AS model_name
  FROM events e LEFT JOIN models m ON m.id = e.model_id
 WHERE (e.tx_id, e.id) > ($1::xid8, $2::bigint) AND e.${RELEASED}${restricted ? ' AND m.name LIKE ANY($4::text[])' : ''}
 ORDER BY e.tx_id, e.id LIMIT $3`;

export const EVENTS_AFTER_SQL = eventsAfter(false);
const RESTRICTED_EVENTS_AFTER_SQL = eventsAfter(true);

const HEAD_SQL = `
WITH ${FEED_HORIZON}
SELECT e.tx_id::text AS tx_id, e.id FROM events e WHERE e.${RELEASED} ORDER BY e.tx_id DESC, e.id DESC LIMIT 1`;

const HAS_UNRELEASED_SQL = `
WITH ${FEED_HORIZON}
SELECT EXISTS (SELECT 1 FROM events WHERE tx_id >= (SELECT h FROM feed_horizon)) AS held`;

/**
 * The transaction at the horizon and the committed events behind it. `xact_start` of another role's
 * session is null without pg_read_all_stats: the age is then null. Never reads query text.
 */
const HORIZON_STATUS_SQL = `
WITH ${FEED_HORIZON},
  holder AS (SELECT min(x) AS x FROM feed_held)
SELECT holder.x::text AS xid, a.pid, coalesce(a.datname, p.database) AS database, coalesce(a.usename, p.owner) AS "user",
       a.application_name, a.backend_type, p.gid AS prepared_gid,
       extract(epoch FROM clock_timestamp() - coalesce(a.xact_start, p.prepared))::float8 AS age_s,
       waiting.unreleased, extract(epoch FROM clock_timestamp() - waiting.oldest)::float8 AS oldest_unreleased_age_s
  FROM holder
  LEFT JOIN LATERAL (
    SELECT pid, datname::text, usename::text, application_name, backend_type, xact_start
      FROM pg_stat_activity WHERE backend_xid = holder.x::xid LIMIT 1) a ON true
  LEFT JOIN LATERAL (
    SELECT gid, database::text, owner::text, prepared FROM pg_prepared_xacts WHERE transaction = holder.x::xid LIMIT 1) p ON true
  CROSS JOIN LATERAL (
    SELECT count(*)::int AS unreleased, min(occurred_at) AS oldest FROM events WHERE tx_id >= (SELECT h FROM feed_horizon)) waiting`;

@Injectable()
export class EventsRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly prepared: PreparedStatements,
  ) {}

  /** `modelNameLike`: only events of models whose names match one of these LIKE patterns (a model-restricted caller). */
  async after(cursor: EventCursor, limit: number, modelNameLike?: string[]): Promise<EventRow[]> {
    return modelNameLike
      ? this.prepared.query(RESTRICTED_EVENTS_AFTER_SQL, [cursor.txId, cursor.id, limit, modelNameLike])
      : this.prepared.query(EVENTS_AFTER_SQL, [cursor.txId, cursor.id, limit]);
  }

  /** The position after the last released event. */
  async head(): Promise<EventCursor | undefined> {
    const rows: { tx_id: string; id: number }[] = await this.prepared.query(HEAD_SQL);
    return rows[0] && { txId: rows[0].tx_id, id: rows[0].id };
  }

  /** Whether committed events wait behind the horizon (they are released when the transaction holding it ends). */
  async hasUnreleased(): Promise<boolean> {
    const rows: { held: boolean }[] = await this.prepared.query(HAS_UNRELEASED_SQL);
    return rows[0].held;
  }

  async horizonStatus(): Promise<HorizonStatus> {
    const [row] = await this.prepared.query<
      (Omit<NonNullable<HorizonStatus['holder']>, 'xid'> & { xid: string | null; unreleased: number; oldest_unreleased_age_s: number | null })[]
    >(HORIZON_STATUS_SQL);
    const { xid, unreleased, oldest_unreleased_age_s, ...session } = row;
    return { holder: xid === null ? null : { xid, ...session }, unreleased, oldest_unreleased_age_s };
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
        `WITH ${FEED_HORIZON},
         gone AS (
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
