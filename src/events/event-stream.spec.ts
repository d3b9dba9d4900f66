import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GatewayConfig } from '../config/gateway.config';
import { encodeCursor, type EventCursor } from './event-cursor';
import { EventStream, MAX_BUFFERED_BYTES } from './event-stream';
import type { EventRow, EventsRepository } from './events.repository';
import type { RegistryChangeListener, RegistryChanges } from './registry-changes';

/** The released feed as a list (the e2e suites run the real queries; this drives the fan-out logic). */
class FakeFeed {
  rows: EventRow[] = [];
  reads = 0;
  /** Called on each read, before answering: lets a test commit events while a subscriber catches up. */
  onRead?: () => void;

  add(count: number, modelId = 1, type = 'model.updated'): void {
    for (let i = 0; i < count; i++) {
      const id = this.rows.length + 1;
      this.rows.push({ id, tx_id: String(1000 + id), occurred_at: new Date(0), type, model_id: modelId, version_id: null, binding_id: null, alias: null, data: {}, actor: null, model_name: null });
    }
  }

  after = async (cursor: EventCursor, limit: number): Promise<EventRow[]> => {
    this.reads++;
    this.onRead?.();
    const tx = BigInt(cursor.txId);
    return this.rows.filter((r) => BigInt(r.tx_id) > tx || (BigInt(r.tx_id) === tx && r.id > cursor.id)).slice(0, limit);
  };

  head = async (): Promise<EventCursor | undefined> => {
    const last = this.rows[this.rows.length - 1];
    return last && { txId: last.tx_id, id: last.id };
  };

  hasUnreleased = async () => false;
}

class FakeResponse extends EventEmitter {
  text = '';
  writableLength = 0;
  writableEnded = false;
  destroyed = false;
  /** A client that stops reading: everything written stays buffered. */
  stalled = false;

  write(chunk: string): boolean {
    this.text += chunk;
    if (this.stalled) this.writableLength += Buffer.byteLength(chunk);
    return true;
  }
  end(): void {
    this.writableEnded = true;
    this.emit('close');
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
  get ids(): string[] {
    return [...this.text.matchAll(/^id: (.+)$/gm)].map((m) => m[1]);
  }
}

const cursorOfRow = (row: EventRow) => encodeCursor({ txId: row.tx_id, id: row.id });

describe(EventStream.name, () => {
  let feed: FakeFeed;
  let listener: RegistryChangeListener | undefined;
  let sut: EventStream;
  const config = { eventsStreamHeartbeatS: 15, eventsStreamMaxSubscribers: 3 } as GatewayConfig;
  const changes = {
    connected: true,
    subscribe: (l: RegistryChangeListener) => {
      listener = l;
      return () => undefined;
    },
  };
  const commit = async (count: number, modelId = 1, type = 'model.updated') => {
    feed.add(count, modelId, type);
    listener!.changed([modelId], 'database');
    await sleep(5);
  };
  const open = async (after: EventCursor, filter = {}) => {
    const response = new FakeResponse();
    await sut.subscribe(response as unknown as ServerResponse, after, filter);
    return response;
  };

  beforeEach(() => {
    feed = new FakeFeed();
    sut = new EventStream(feed as unknown as EventsRepository, changes as unknown as RegistryChanges, config);
    sut.onModuleInit();
  });
  afterEach(() => sut.onModuleDestroy());

  it('reads each new event once and writes it to every subscriber', async () => {
    feed.add(3);
    const head = await sut.currentHead();
    const [a, b] = [await open(head), await open(head)];
    const readsBefore = feed.reads;
    await commit(2);
    expect(a.ids).toEqual(feed.rows.slice(3).map(cursorOfRow));
    expect(b.ids).toEqual(a.ids);
    expect(feed.reads - readsBefore).toBe(1);
  });

  it('a subscriber behind the in-memory window catches up from the database and then joins, missing and repeating nothing, even while events keep coming', async () => {
    feed.add(5);
    const start = await sut.currentHead();
    const watcher = await open(start);
    await commit(2_500);
    let extra = 3;
    feed.onRead = () => {
      // Events committed (and published) while the late subscriber is catching up.
      if (extra-- > 0) void commit(100);
    };
    const late = await open({ txId: feed.rows[2].tx_id, id: feed.rows[2].id });
    feed.onRead = undefined;
    await commit(10);
    expect(late.ids).toEqual(feed.rows.slice(3).map(cursorOfRow));
    expect(watcher.ids).toEqual(feed.rows.slice(5).map(cursorOfRow));
  });

  it('filters by model and by type family', async () => {
    const head = await sut.currentHead();
    const onlyModel2 = await open(head, { models: new Set([2]) });
    const versions = await open(head, { types: new Set(['version', 'alias.set']) });
    await commit(1, 1, 'version.created');
    await commit(1, 2, 'model.updated');
    await commit(1, 2, 'alias.set');
    await commit(1, 2, 'alias.deleted');
    expect(onlyModel2.ids).toEqual(feed.rows.slice(1).map(cursorOfRow));
    expect(versions.ids).toEqual([feed.rows[0], feed.rows[2]].map(cursorOfRow));
  });

  it('disconnects a subscriber whose unsent backlog passes the bound, which resumes from its last id exactly once', async () => {
    const head = await sut.currentHead();
    const slow = await open(head);
    const fast = await open(head);
    slow.stalled = true;
    const frame = 150; // bytes, roughly
    await commit(Math.ceil((2 * MAX_BUFFERED_BYTES) / frame));
    expect(slow.destroyed).toBe(true);
    expect(fast.destroyed).toBe(false);
    expect(slow.ids.length).toBeLessThan(feed.rows.length);
    const lastId = slow.ids[slow.ids.length - 1];
    const last = feed.rows.find((r) => cursorOfRow(r) === lastId)!;
    const resumed = await open({ txId: last.tx_id, id: last.id });
    expect([...slow.ids, ...resumed.ids]).toEqual(feed.rows.map(cursorOfRow));
    expect(fast.ids).toEqual(feed.rows.map(cursorOfRow));
  });

  it('refuses subscribers beyond the maximum, and every stream once shutting down; ends open streams at shutdown', async () => {
    const head = await sut.currentHead();
    const open3 = [await open(head), await open(head), await open(head)];
    expect(() => sut.assertCapacity()).toThrow(/maximum of 3/);
    open3[0].end();
    expect(() => sut.assertCapacity()).not.toThrow();
    sut.onModuleDestroy();
    expect(open3.every((r) => r.writableEnded)).toBe(true);
    expect(sut.subscriberCount).toBe(0);
    expect(() => sut.assertCapacity()).toThrow(/shutting down/);
  });

  it('stops reading the database when the last subscriber leaves', async () => {
    const head = await sut.currentHead();
    const only = await open(head);
    only.end();
    const reads = feed.reads;
    await commit(3);
    expect(feed.reads).toBe(reads);
  });
});
