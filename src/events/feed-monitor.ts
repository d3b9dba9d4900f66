import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { metrics, type BatchObservableCallback } from '@opentelemetry/api';
import { gatewayConfig } from '../config/gateway.config';
import { EventsRepository, type HorizonStatus } from './events.repository';

/** A warning about the same transaction is repeated this often while it keeps holding the feed. */
const REPEAT_WARNING_MS = 5 * 60_000;

interface Sample {
  holder: (NonNullable<HorizonStatus['holder']> & { held_s: number }) | null;
  unreleased: number;
  lagS: number;
}

/**
 * Watches the change feed's release horizon (see FEED_HORIZON): how long committed events have waited
 * to be released, which transaction holds them, and for how long. Exposes it as metrics and logs a
 * warning, naming the transaction's pid and database (never its query), when one transaction holds the
 * feed longer than EVENTS_HOLD_WARN_S. Independent of readiness: a held feed is not a broken instance.
 *
 * The hold age is the transaction's age from `pg_stat_activity.xact_start` (or when it was prepared).
 * Without pg_read_all_stats the start of another role's session is hidden: the age then counts from
 * when this replica first saw the transaction holding the horizon.
 */
@Injectable()
export class FeedHorizonMonitor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(FeedHorizonMonitor.name);
  private readonly meter = metrics.getMeter('model-registry');
  private readonly lag = this.meter.createObservableGauge('events.feed.lag.seconds', {
    description: 'Age of the oldest committed change-feed event not yet released to readers (0 when none waits).',
    unit: 's',
  });
  private readonly hold = this.meter.createObservableGauge('events.feed.horizon.hold.seconds', {
    description: 'How long the oldest transaction holding back the change-feed horizon has been open (0 when none does).',
    unit: 's',
  });
  private readonly unreleased = this.meter.createObservableGauge('events.feed.unreleased', { description: 'Committed change-feed events waiting behind the horizon.' });
  private timer?: NodeJS.Timeout;
  private running = false;
  private latest?: Sample;
  private firstSeen?: { xid: string; at: number };
  private warned?: { xid: string; at: number; pid: number | null; database: string | null };

  constructor(
    private readonly events: EventsRepository,
    @Inject(gatewayConfig.KEY) private readonly config: ConfigType<typeof gatewayConfig>,
  ) {}

  private readonly observe: BatchObservableCallback = (result) => {
    const sample = this.latest;
    if (!sample) return;
    result.observe(this.lag, sample.lagS);
    result.observe(this.hold, sample.holder?.held_s ?? 0);
    result.observe(this.unreleased, sample.unreleased);
  };

  /** The last sample (for tests and the metrics). */
  get current(): Sample | undefined {
    return this.latest;
  }

  onApplicationBootstrap(): void {
    this.meter.addBatchObservableCallback(this.observe, [this.lag, this.hold, this.unreleased]);
    // Often enough to warn close to the threshold, at most every 5 s.
    const every = Math.min(5_000, Math.max(250, (this.config.eventsHoldWarnS * 1_000) / 4));
    this.timer = setInterval(() => void this.check(), every);
    this.timer.unref();
    void this.check();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.meter.removeBatchObservableCallback(this.observe, [this.lag, this.hold, this.unreleased]);
  }

  async check(): Promise<Sample | undefined> {
    if (this.running) return this.latest;
    this.running = true;
    try {
      const status = await this.events.horizonStatus();
      const now = Date.now();
      let holder: Sample['holder'] = null;
      if (status.holder) {
        if (this.firstSeen?.xid !== status.holder.xid) this.firstSeen = { xid: status.holder.xid, at: now };
        holder = { ...status.holder, held_s: status.holder.age_s ?? (now - this.firstSeen.at) / 1_000 };
      } else {
        this.firstSeen = undefined;
      }
      this.latest = { holder, unreleased: status.unreleased, lagS: status.oldest_unreleased_age_s ?? 0 };
      this.report(this.latest, now);
    } catch {
      // The database is unreachable: no sample (the gauges are absent), readiness reports the outage.
      this.latest = undefined;
    } finally {
      this.running = false;
    }
    return this.latest;
  }

  private report(sample: Sample, now: number): void {
    const holder = sample.holder;
    if (this.warned && this.warned.xid !== holder?.xid) {
      const { xid, pid, database } = this.warned;
      this.logger.log({ xid, pid, database }, `the transaction that held the change feed back has ended (xid ${xid}, pid ${pid ?? 'unknown'})`);
      this.warned = undefined;
    }
    if (!holder || holder.held_s < this.config.eventsHoldWarnS) return;
    if (this.warned && now - this.warned.at < REPEAT_WARNING_MS) return;
    this.warned = { xid: holder.xid, at: now, pid: holder.pid, database: holder.database };
    const who = holder.prepared_gid !== null ? `prepared transaction ${JSON.stringify(holder.prepared_gid)}` : `pid ${holder.pid ?? 'unknown'}`;
    this.logger.warn(
      {
        xid: holder.xid,
        pid: holder.pid,
        database: holder.database,
        user: holder.user,
        application_name: holder.application_name,
        backend_type: holder.backend_type,
        prepared_gid: holder.prepared_gid,
        held_s: Math.round(holder.held_s),
        events_waiting: sample.unreleased,
        oldest_waiting_s: Math.round(sample.lagS),
      },
      `a transaction has held the change feed back for ${Math.round(holder.held_s)} s (${who}, database ${holder.database ?? 'unknown'}, xid ${holder.xid}): ` +
        `${sample.unreleased} committed event(s) wait until it ends (EVENTS_HOLD_WARN_S=${this.config.eventsHoldWarnS})`,
    );
  }
}
