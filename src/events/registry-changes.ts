import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { metrics, type ObservableCallback } from '@opentelemetry/api';
import type { Client, Notification } from 'pg';
import { DataSource } from 'typeorm';
import { openDedicatedClient } from '../database/dedicated-client';

/** The channel the `events_notify` trigger raises, with the ids of the models a statement changed, or `*`. */
export const CHANGES_CHANNEL = 'registry_changes';

/** How often the notification connection proves it still delivers, and how long a proof may take. */
export const PROBE_INTERVAL_MS = 1_000;
export const PROBE_TIMEOUT_MS = 2_000;
const RECONNECT_MAX_DELAY_MS = 5_000;

/** Model ids whose data changed, or `all` when any may have. */
export type ChangedModels = readonly number[] | 'all';

export interface RegistryChangeListener {
  /**
   * Data changed. `database`: a commit on any replica, told by PostgreSQL (it is visible to anyone who
   * reads now). `local`: a change this replica just made that writes no change-feed events (usage
   * figures), told before its response is sent.
   */
  changed(models: ChangedModels, origin: 'database' | 'local'): void;
  /** The notification connection went down (changes may go unheard until it is back) or came back. */
  connection(up: boolean): void;
}

interface Session {
  client: Client;
  ended: boolean;
}

/**
 * How this process hears that registry data changed: one dedicated connection (never the pool, and
 * direct to PostgreSQL rather than through a transaction-pooling proxy) that LISTENs to
 * `registry_changes`. Every PROBE_INTERVAL_MS it notifies a channel of its own on that same connection
 * and expects to hear it back within PROBE_TIMEOUT_MS: that proves notifications are delivered (a
 * connection that silently stopped, or a LISTEN sent through PgBouncer's transaction pooling, hears
 * nothing). Otherwise the connection is dropped, listeners are told it is down, and it reconnects with
 * backoff. The same probe is the barrier `roundTrip()`: notifications arrive in commit order, so once a
 * probe sent after a commit comes back, that commit's notification has been handled.
 */
@Injectable()
export class RegistryChanges implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RegistryChanges.name);
  private readonly listeners = new Set<RegistryChangeListener>();
  private readonly probeChannel = `registry_probe_${process.pid}_${randomBytes(4).toString('hex')}`;
  private readonly probes = new Map<string, (heard: boolean) => void>();
  private probeCounter = 0;
  private session?: Session;
  private up = false;
  private stopped = false;
  private heartbeat?: NodeJS.Timeout;
  private outageLogged = false;
  private connecting = false;
  private beating = false;
  private writes = 0;
  private readonly connectedGauge = metrics
    .getMeter('model-registry')
    .createObservableGauge('events.notifications.connected', { description: 'Whether the LISTEN connection for registry changes is up and delivering (1) or not (0).' });
  private readonly observeConnected: ObservableCallback = (result) => result.observe(this.up ? 1 : 0);

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Whether notifications are being heard: while false, changes on other replicas may go unnoticed. */
  get connected(): boolean {
    return this.up;
  }

  /** Write requests this replica has answered (see noteLocalWrite). */
  get localWrites(): number {
    return this.writes;
  }

  subscribe(listener: RegistryChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Changes this replica made that write no events (usage figures): told to local listeners only. */
  announceLocal(models: number[]): void {
    for (const listener of this.listeners) listener.changed(models, 'local');
  }

  /**
   * Called when a write request is about to be answered (after its transaction committed). Readers that
   * must see their own writes wait for a roundTrip() that started after this.
   */
  noteLocalWrite(): void {
    this.writes++;
  }

  /**
   * Notifies this connection's own probe channel and waits to hear it back: true once every
   * notification committed before the call has been handled; false if that cannot be proven (no
   * connection, or no answer within the timeout, which also drops the connection).
   */
  roundTrip(timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
    const session = this.session;
    if (!session || session.ended || !this.up) return Promise.resolve(false);
    return this.probe(session, timeoutMs);
  }

  onApplicationBootstrap(): void {
    this.connectedGauge.addCallback(this.observeConnected);
    // In the background: the service is ready without it (the cache is bypassed until it is up).
    void this.connectWithBackoff();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.connectedGauge.removeCallback(this.observeConnected);
    const session = this.session;
    if (session) this.drop(session, undefined);
    this.listeners.clear();
  }

  private async connectWithBackoff(): Promise<void> {
    if (this.connecting) return;
    this.connecting = true;
    try {
      for (let delay = 100; !this.stopped; delay = Math.min(delay * 2, RECONNECT_MAX_DELAY_MS)) {
        try {
          await this.connect();
          return;
        } catch (error) {
          if (!this.outageLogged && !this.stopped) {
            this.outageLogged = true;
            this.logger.warn({ err: error }, 'cannot listen for registry changes: the resolve cache is bypassed until this works (retrying)');
          }
          await sleep(delay, undefined, { ref: false });
        }
      }
    } finally {
      this.connecting = false;
    }
  }

  private async connect(): Promise<void> {
    const client = await openDedicatedClient(this.dataSource, 'changes');
    const session: Session = { client, ended: false };
    if (this.stopped) {
      this.drop(session, undefined);
      return;
    }
    client.on('notification', (message) => this.onNotification(message));
    client.on('error', (error) => this.drop(session, error));
    client.on('end', () => this.drop(session, new Error('the connection ended')));
    this.session = session;
    try {
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
      await client.query(`LISTEN ${this.probeChannel}`);
      if (!(await this.probe(session, PROBE_TIMEOUT_MS))) {
        throw new Error('notifications sent on the LISTEN connection do not come back (is it going through a transaction-pooling proxy?)');
      }
    } catch (error) {
      this.drop(session, undefined);
      throw error;
    }
    if (this.stopped) return;
    if (session.ended) throw new Error('the connection was lost while subscribing');
    this.up = true;
    this.outageLogged = false;
    this.logger.log('listening for registry changes');
    for (const listener of this.listeners) listener.connection(true);
    this.heartbeat = setInterval(() => void this.beat(session), PROBE_INTERVAL_MS);
    this.heartbeat.unref();
  }

  private async beat(session: Session): Promise<void> {
    if (this.beating || session.ended) return;
    this.beating = true;
    try {
      if (!(await this.probe(session, PROBE_TIMEOUT_MS))) this.drop(session, new Error(`no probe answer within ${PROBE_TIMEOUT_MS} ms`));
    } finally {
      this.beating = false;
    }
  }

  private probe(session: Session, timeoutMs: number): Promise<boolean> {
    const nonce = `${++this.probeCounter}`;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => settle(false), timeoutMs);
      const settle = (heard: boolean) => {
        clearTimeout(timer);
        this.probes.delete(nonce);
        resolve(heard);
      };
      this.probes.set(nonce, settle);
      session.client.query('SELECT pg_notify($1, $2)', [this.probeChannel, nonce]).catch(() => settle(false));
    });
  }

  private onNotification(message: Notification): void {
    if (message.channel === this.probeChannel) {
      this.probes.get(message.payload ?? '')?.(true);
      return;
    }
    if (message.channel !== CHANGES_CHANNEL) return;
    const models: ChangedModels =
      message.payload === '*' || !message.payload ? 'all' : message.payload.split(',').map(Number).filter((id) => Number.isSafeInteger(id) && id > 0);
    for (const listener of this.listeners) listener.changed(models, 'database');
  }

  /** Ends a session (idempotent); when it was the live one, tells listeners and reconnects. */
  private drop(session: Session, reason: unknown): void {
    if (session.ended) return;
    session.ended = true;
    void session.client.end().catch(() => undefined);
    if (this.session !== session) return;
    this.session = undefined;
    clearInterval(this.heartbeat);
    for (const settle of [...this.probes.values()]) settle(false);
    if (this.up) {
      this.up = false;
      for (const listener of this.listeners) listener.connection(false);
      if (!this.stopped) {
        this.outageLogged = true;
        this.logger.warn({ err: reason }, 'lost the connection that listens for registry changes: the resolve cache is emptied and bypassed until it is back');
      }
    }
    if (!this.stopped && reason !== undefined) void this.connectWithBackoff();
  }
}
