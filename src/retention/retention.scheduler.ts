import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob, CronTime } from 'cron';
import { RequestContext, systemActor } from '../common/context/request-context';
import { retentionConfig } from '../config/retention.config';
import { EventsService } from '../events/events.service';
import { RetentionService } from './retention.service';

export const RETENTION_JOB = 'retention';

/**
 * The nightly retention job (RETENTION_CRON, UTC). Every replica runs the cron, but a scheduled run is
 * keyed by its slot (the instant it was scheduled for) under a unique constraint, so each slot runs
 * exactly once across replicas; the replica that runs it also prunes old change-feed events. A
 * failure is logged and recorded in the run; it never reaches the process.
 */
@Injectable()
export class RetentionScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RetentionScheduler.name);
  private job?: CronJob;
  private running?: Promise<void>;

  constructor(
    private readonly retention: RetentionService,
    private readonly registry: SchedulerRegistry,
    private readonly events: EventsService,
    @Inject(retentionConfig.KEY) private readonly config: ConfigType<typeof retentionConfig>,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.enabled) {
      this.logger.log('RETENTION_ENABLED=false: the scheduled retention job is off');
      return;
    }
    this.job = CronJob.from({ cronTime: this.config.cron, onTick: () => this.tick(), start: true, timeZone: 'UTC' });
    this.registry.addCronJob(RETENTION_JOB, this.job as never);
    this.logger.log({ cron: this.config.cron, next_run_at: this.nextRunAt()?.toISOString() }, 'retention job scheduled');
  }

  async onApplicationShutdown(): Promise<void> {
    await this.job?.stop();
    await this.running;
  }

  nextRunAt(): Date | undefined {
    return this.job ? this.job.nextDate().toJSDate() : undefined;
  }

  /**
   * The instant this tick was scheduled for (the latest one not after it, allowing a second of early
   * firing), identical on every replica whatever their timer lag, up to a minute.
   */
  slotOf(firedAt: Date): Date {
    const cron = new CronTime(this.config.cron, 'UTC');
    const limit = firedAt.getTime() + 1_000;
    let slot = cron.getNextDateFrom(new Date(firedAt.getTime() - 60_000)).toJSDate();
    for (let next = cron.getNextDateFrom(slot).toJSDate(); next.getTime() <= limit; next = cron.getNextDateFrom(next).toJSDate()) slot = next;
    return slot;
  }

  private tick(): void {
    if (this.running) return;
    const scheduledFor = this.slotOf(new Date());
    // The job's changes are attributed to it in the audit log and on change events.
    this.running = RequestContext.run({ actor: systemActor('retention-scheduler'), requestId: null }, () =>
      this.retention.apply({ trigger: 'scheduled', scheduledFor, dryRun: false, purge: true }),
    )
      .then(async (report) => {
        if (!report) {
          this.logger.debug({ scheduled_for: scheduledFor.toISOString() }, 'retention slot not run here: another replica claimed it, or another run held the lock');
          return;
        }
        // The replica that ran the slot also prunes the change feed.
        await this.events.prune();
      })
      .catch((error: unknown) => this.logger.error({ err: error, scheduled_for: scheduledFor.toISOString() }, 'scheduled retention run failed'))
      .finally(() => {
        this.running = undefined;
      });
  }
}
