import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { metrics, type BatchObservableCallback } from '@opentelemetry/api';
import { gatewayConfig } from '../config/gateway.config';
import { RegistryChanges, type ChangedModels, type RegistryChangeListener } from '../events/registry-changes';
import type { ResolveResponseDto } from './dto/resolve-response.dto';

interface Entry {
  answer: ResolveResponseDto;
  modelId: number;
  /** The model's generation when the answer was read: a later invalidation of the model bumps it. */
  generation: number;
  expiresAt: number;
}

/** Taken before reading the database; a fill with a ticket from before an invalidation is dropped. */
export interface FillTicket {
  epoch: number;
  readAt: number;
}

/**
 * Resolve answers kept in this process per (model name, query), coherent across replicas:
 *
 * - Every statement that writes change-feed events raises a notification, in the same transaction,
 *   naming the models it changed; every replica drops their answers when it arrives (RegistryChanges).
 * - A read that was in flight when an invalidation arrived must not store what it read: every
 *   invalidation moves `epoch`, and a fill whose ticket (taken before the read) has an older epoch is
 *   dropped. A fill with a current ticket read the database after every change it has been told of.
 * - Writes through this replica: until a notification round trip started after the write has come back
 *   (so its notification has been handled), answers are read from the database, not the cache.
 * - When the notification connection is down the cache is emptied and bypassed until it is back.
 * - Usage figures (avg_latency_ms, success_rate, which order the bindings) change with every usage
 *   report and write no events: the replica that applied a report drops that model's answers at once;
 *   elsewhere an answer is at most RESOLVE_CACHE_TTL_MS old. Any change made outside the API to a
 *   column the feed does not record is bounded by the same TTL.
 * - At most RESOLVE_CACHE_MAX_ENTRIES answers, least recently used evicted first. Only successful
 *   answers are kept: a 404 always asks the database.
 */
@Injectable()
export class ResolveCache implements RegistryChangeListener, OnModuleInit, OnModuleDestroy {
  private entries = new Map<string, Entry>();
  private generations = new Map<number, number>();
  private epoch = 0;
  private syncedWrites = 0;
  private syncing = false;
  private readonly counts = { hit: 0, miss: 0, bypass: 0, invalidations: 0, droppedFills: 0, evictions: 0 };
  private unsubscribe?: () => void;
  private readonly meter = metrics.getMeter('model-registry');
  private readonly requests = this.meter.createObservableCounter('resolve.cache.requests', {
    description: 'Resolve requests by how the cache served them: hit, miss (read and stored), bypass (cache off, notifications down, or just after a local write).',
  });
  private readonly size = this.meter.createObservableGauge('resolve.cache.entries', { description: 'Answers held by the resolve cache.' });
  private readonly invalidations = this.meter.createObservableCounter('resolve.cache.invalidations', { description: 'Invalidations received (per notification or local change).' });
  private readonly evictions = this.meter.createObservableCounter('resolve.cache.evictions', { description: 'Answers evicted to stay within RESOLVE_CACHE_MAX_ENTRIES.' });

  constructor(
    private readonly changes: RegistryChanges,
    @Inject(gatewayConfig.KEY) private readonly config: ConfigType<typeof gatewayConfig>,
  ) {}

  private readonly observe: BatchObservableCallback = (result) => {
    result.observe(this.requests, this.counts.hit, { result: 'hit' });
    result.observe(this.requests, this.counts.miss, { result: 'miss' });
    result.observe(this.requests, this.counts.bypass, { result: 'bypass' });
    result.observe(this.size, this.entries.size);
    result.observe(this.invalidations, this.counts.invalidations);
    result.observe(this.evictions, this.counts.evictions);
  };

  onModuleInit(): void {
    if (!this.config.resolveCache) return;
    this.unsubscribe = this.changes.subscribe(this);
    this.meter.addBatchObservableCallback(this.observe, [this.requests, this.size, this.invalidations, this.evictions]);
  }

  onModuleDestroy(): void {
    if (!this.config.resolveCache) return;
    this.unsubscribe?.();
    this.meter.removeBatchObservableCallback(this.observe, [this.requests, this.size, this.invalidations, this.evictions]);
  }

  get enabled(): boolean {
    return this.config.resolveCache;
  }

  /** The cached answer, or undefined (then read the database with a ticket from begin()). */
  get(key: string): ResolveResponseDto | undefined {
    if (!this.usable()) return undefined;
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= Date.now() || (this.generations.get(entry.modelId) ?? 0) !== entry.generation) {
      this.entries.delete(key);
      return undefined;
    }
    // Most recently used last: eviction takes from the front.
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.counts.hit++;
    return entry.answer;
  }

  /** Call right before reading the database; undefined when the answer must not be stored. */
  begin(): FillTicket | undefined {
    if (!this.usable()) {
      this.counts.bypass++;
      return undefined;
    }
    this.counts.miss++;
    return { epoch: this.epoch, readAt: Date.now() };
  }

  fill(ticket: FillTicket | undefined, key: string, answer: ResolveResponseDto): void {
    if (ticket === undefined) return;
    if (ticket.epoch !== this.epoch) {
      this.counts.droppedFills++;
      return;
    }
    const modelId = answer.model.id;
    this.entries.delete(key);
    this.entries.set(key, { answer, modelId, generation: this.generations.get(modelId) ?? 0, expiresAt: ticket.readAt + this.config.resolveCacheTtlMs });
    if (this.entries.size > this.config.resolveCacheMaxEntries) {
      this.entries.delete(this.entries.keys().next().value!);
      this.counts.evictions++;
    }
  }

  changed(models: ChangedModels, _origin: 'database' | 'local'): void {
    this.epoch++;
    this.counts.invalidations++;
    if (models === 'all') {
      this.clear();
      return;
    }
    for (const id of models) this.generations.set(id, (this.generations.get(id) ?? 0) + 1);
  }

  /**
   * Down: what was kept may have missed changes. Up: anything read while down was not kept anyway, and
   * every write answered so far had committed, so reads from now on see it: no round trip is owed for
   * those writes (one that was in flight when the connection dropped would otherwise never be proved).
   */
  connection(up: boolean): void {
    this.clear();
    if (up) this.syncedWrites = this.changes.localWrites;
  }

  private clear(): void {
    this.epoch++;
    this.entries = new Map();
    this.generations = new Map();
  }

  /**
   * On, notifications heard, and every write this replica answered already reflected: otherwise the
   * caller reads the database (and a sync for the writes is started).
   */
  private usable(): boolean {
    if (!this.config.resolveCache || !this.changes.connected) return false;
    if (this.changes.localWrites !== this.syncedWrites) {
      this.sync();
      return false;
    }
    return true;
  }

  private sync(): void {
    if (this.syncing) return;
    this.syncing = true;
    const target = this.changes.localWrites;
    void this.changes.roundTrip().then((heard) => {
      this.syncing = false;
      if (heard) this.syncedWrites = Math.max(this.syncedWrites, target);
    });
  }
}
