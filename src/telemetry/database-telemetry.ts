import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { metrics, type Attributes, type BatchObservableCallback } from '@opentelemetry/api';
import * as pg from 'pg';
import { DataSource } from 'typeorm';
import { poolStats } from '../database/pool-stats';
import { counter, readCounters } from '../database/registry-counters';
import { measurePgQueryDuration } from './pg-query-duration';

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
    const histogram = meter().createHistogram('db.client.operation.duration', {
      description: 'Duration of database queries, by operation.',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] },
    });
    // One attribute set per operation, made once (operations come from a fixed set).
    const attributes = new Map<string, Attributes>();
    measurePgQueryDuration(pg, (seconds, operation) => {
      let set = attributes.get(operation);
      if (!set) attributes.set(operation, (set = Object.freeze({ 'db.system.name': 'postgresql', 'db.operation.name': operation })));
      histogram.record(seconds, set);
    });
    meter().addBatchObservableCallback(this.observePool, [this.poolConnections, this.poolPending, this.poolMax]);
    meter().addBatchObservableCallback(this.observeRegistry, [this.models, this.versions, this.activeBindings, this.lastRetentionRun]);
  }

  onModuleDestroy(): void {
    meter().removeBatchObservableCallback(this.observePool, [this.poolConnections, this.poolPending, this.poolMax]);
    meter().removeBatchObservableCallback(this.observeRegistry, [this.models, this.versions, this.activeBindings, this.lastRetentionRun]);
  }
}
