import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { metrics, type BatchObservableCallback } from '@opentelemetry/api';
import * as pg from 'pg';
import { DataSource } from 'typeorm';
import { poolStats } from '../database/pool-stats';
import { counter, readCounters } from '../database/registry-counters';
import { measurePgQueryDuration } from './pg-query-duration';
import { dbOperationDuration } from './cumulative-histogram';

const meter = () => metrics.getMeter('model-registry');

/**
 * Database and registry metrics: query durations, the pool's connections, and the registry's size
 * and retention state (read from the trigger-kept counters on each scrape: one small query).
 */
@Injectable()
export class DatabaseTelemetry implements OnModuleInit, OnModuleDestroy {
  private readonly poolConnections = meter().createObservableGauge('db.client.connection.count', { description: 'Connections in the pool, by state (idle, used).' });
  private readonly poolPending = meter().createObservableGauge('db.client.connection.pending_requests', { description: 'Requests waiting for a pool connection.' });
  private readonly poolMax = meter().createObservableGauge('db.client.connection.max', { description: 'Pool size.' });
  private readonly models = meter().createObservableGauge('registry.models', { description: 'Models in the registry.' });
  private readonly versions = meter().createObservableGauge('registry.versions', { description: 'Versions, by state (live, archived).' });
  private readonly activeBindings = meter().createObservableGauge('registry.bindings.active', { description: 'Active provider bindings.' });
  private readonly lastRetentionRun = meter().createObservableGauge('retention.last_run.timestamp', {
    description: 'When the last real retention run finished (Unix seconds).',
    unit: 's',
  });

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private readonly observePool: BatchObservableCallback = (result) => {
    const stats = poolStats(this.dataSource);
    if (!stats) return;
    result.observe(this.poolConnections, stats.idle, { 'db.client.connection.state': 'idle' });
    result.observe(this.poolConnections, stats.total - stats.idle, { 'db.client.connection.state': 'used' });
    result.observe(this.poolPending, stats.waiting);
    result.observe(this.poolMax, stats.max);
  };

  private readonly observeRegistry: BatchObservableCallback = async (result) => {
    try {
      const [values, runs] = await Promise.all([
        readCounters(this.dataSource.manager, ['models.total', 'versions.live', 'versions.archived', 'bindings.by_status']),
        this.dataSource.query(`SELECT extract(epoch FROM max(finished_at))::float8 AS at FROM retention_runs WHERE NOT dry_run AND status IN ('succeeded', 'partial')`),
      ]);
      result.observe(this.models, counter(values, 'models.total'));
      result.observe(this.versions, counter(values, 'versions.live'), { state: 'live' });
      result.observe(this.versions, counter(values, 'versions.archived'), { state: 'archived' });
      result.observe(this.activeBindings, values.get('bindings.by_status')?.get('active') ?? 0);
      if (runs[0]?.at !== null && runs[0]?.at !== undefined) result.observe(this.lastRetentionRun, runs[0].at);
    } catch {
      // The database is unreachable: these gauges are absent from this scrape; the scrape still succeeds.
    }
  };

  onModuleInit(): void {
    // Operations come from a fixed set (pg-query-duration.ts): the operation is the series' key.
    measurePgQueryDuration(pg, (seconds, operation) =>
      (dbOperationDuration.get(operation) ?? dbOperationDuration.add(operation, { 'db.system.name': 'postgresql', 'db.operation.name': operation })).record(seconds),
    );
    meter().addBatchObservableCallback(this.observePool, [this.poolConnections, this.poolPending, this.poolMax]);
    meter().addBatchObservableCallback(this.observeRegistry, [this.models, this.versions, this.activeBindings, this.lastRetentionRun]);
  }

  onModuleDestroy(): void {
    meter().removeBatchObservableCallback(this.observePool, [this.poolConnections, this.poolPending, this.poolMax]);
    meter().removeBatchObservableCallback(this.observeRegistry, [this.models, this.versions, this.activeBindings, this.lastRetentionRun]);
  }
}
