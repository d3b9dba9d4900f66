/**
 * The release horizon of the change feed: a reader is given only events with `tx_id < h`, computed in
 * the same statement (so from the same snapshot S) as the events it reads.
 *
 *   h = least(xmax(S), the smallest xid in progress in S that is not known to belong to another database)
 *
 * Why no event can be skipped. Take an event E with tx_id t < h, written by the top-level transaction
 * T (`tx_id` defaults to `pg_current_xact_id()`: T's top-level xid, also when E was written in a
 * subtransaction). Since t < h <= xmax(S), T had its xid before S was taken, so S knows T's fate:
 * - T had ended: if it committed, E is visible in S; if it (or E's subtransaction) rolled back, E is
 *   never visible to anyone;
 * - T was in progress, so t is in S's list of running xids (`pg_snapshot_xip`: every running top-level
 *   xid below xmax, prepared transactions included). t < h means t was left out of the minimum, i.e. it
 *   was found to belong to another database. But T inserted E into this database's `events` table, and
 *   a session only ever writes to the database it is connected to (a prepared transaction keeps its
 *   database): T cannot be in another database. Contradiction.
 * So every event with tx_id < h is visible in S or will never be. A reader returns events in
 * (tx_id, id) order, all with tx_id < h, and its cursor is the last position it was given; an event that
 * becomes visible later therefore has tx_id >= the h of every earlier read, i.e. a position after every
 * cursor already handed out: none is skipped, and since each read starts strictly after its cursor,
 * none is repeated. Positions are values stored in the rows, so the order is the same on every replica
 * and across restarts, and any replica's cursor works on any other.
 *
 * "Known to belong to another database" needs no consistency with S. A transaction's database never
 * changes, and a 32-bit xid names one transaction among those in progress (they span less than 2^31
 * xids, which wraparound protection guarantees), so the catalog views may be read a moment before or
 * after S: reading them late can only fail to classify an xid (its transaction has ended since), which
 * holds the feed a little longer, never releases too much. Sources: `pg_stat_activity` (datid,
 * backend_xid) and `pg_prepared_xacts` (database, transaction), readable by any role for sessions of any
 * role (checked on PostgreSQL 15 and 18). A backend whose database is unknown (datid NULL) counts as
 * ours. Autovacuum workers and walsenders appear with their database like any backend; lazy vacuum and
 * logical decoding are not in S's running list at all.
 *
 * What does hold the feed back: a transaction in this database that has an xid, i.e. has written
 * anything, and prepared transactions of this database. It holds even before it writes an event,
 * because it may still write one with that (older) xid. Read-only transactions have no xid and never
 * hold; neither do transactions in other databases of the same server, which the old
 * `tx_id < pg_snapshot_xmin(...)` waited for (xmin is cluster-wide).
 *
 * The order is the order in which transactions got their xids (their first write), not the order of
 * inserts or commits: T2 may insert before T1 and commit first, yet T1's events come first once T1 has
 * ended. That is what keeps the order stable without serialising writers.
 *
 * Use as `WITH ${FEED_HORIZON} SELECT … WHERE tx_id < (SELECT h FROM feed_horizon)`.
 */
export const FEED_HORIZON = `
  feed_snapshot AS MATERIALIZED (SELECT pg_current_snapshot() AS s),
  feed_held AS (
    SELECT x FROM feed_snapshot, pg_snapshot_xip(feed_snapshot.s) AS x
     WHERE NOT EXISTS (
             SELECT 1 FROM pg_stat_activity a
              WHERE a.backend_xid = x::xid AND a.datid <> (SELECT oid FROM pg_database WHERE datname = current_database()))
       AND NOT EXISTS (SELECT 1 FROM pg_prepared_xacts p WHERE p.transaction = x::xid AND p.database <> current_database())),
  feed_horizon AS (SELECT least(pg_snapshot_xmax(s), (SELECT min(x) FROM feed_held)) AS h FROM feed_snapshot)`;

/** Events that may be handed to readers (see FEED_HORIZON). */
export const RELEASED = 'tx_id < (SELECT h FROM feed_horizon)';
