import type { GatewayConfig } from '../config/gateway.config';
import type { RegistryChangeListener, RegistryChanges } from '../events/registry-changes';
import type { ResolveResponseDto } from './dto/resolve-response.dto';
import { ResolveCache } from './resolve-cache';

/** What the cache sees of RegistryChanges: a fake for the pure cache logic (the e2e suites use the real one). */
class FakeChanges {
  connected = true;
  localWrites = 0;
  listener?: RegistryChangeListener;
  roundTrips: ((heard: boolean) => void)[] = [];
  subscribe(listener: RegistryChangeListener) {
    this.listener = listener;
    return () => undefined;
  }
  roundTrip(): Promise<boolean> {
    return new Promise((resolve) => this.roundTrips.push(resolve));
  }
}

const answer = (modelId: number, version = '1.0.0') => ({ model: { id: modelId, name: `m${modelId}`, task: 'generation' }, version: { version } }) as unknown as ResolveResponseDto;

describe(ResolveCache.name, () => {
  let changes: FakeChanges;
  let sut: ResolveCache;
  const config = { resolveCache: true, resolveCacheMaxEntries: 3, resolveCacheTtlMs: 1_000 } as GatewayConfig;

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    changes = new FakeChanges();
    sut = new ResolveCache(changes as unknown as RegistryChanges, config);
    sut.onModuleInit();
  });
  afterEach(() => {
    sut.onModuleDestroy();
    jest.useRealTimers();
  });

  const store = (key: string, value: ResolveResponseDto) => sut.fill(sut.begin(), key, value);

  it('serves what was stored, per key', () => {
    expect(sut.get('a')).toBeUndefined();
    store('a', answer(1));
    expect(sut.get('a')).toEqual(answer(1));
    expect(sut.get('b')).toBeUndefined();
  });

  it('drops a fill whose read started before an invalidation arrived (it may be stale)', () => {
    const ticket = sut.begin();
    changes.listener!.changed([1], 'database');
    sut.fill(ticket, 'a', answer(1));
    expect(sut.get('a')).toBeUndefined();
    // A read started after the invalidation is stored.
    store('a', answer(1, '2.0.0'));
    expect(sut.get('a')).toEqual(answer(1, '2.0.0'));
  });

  it('forgets every answer about an invalidated model, and only those', () => {
    store('a', answer(1));
    store('a2', answer(1, '2.0.0'));
    store('b', answer(2));
    changes.listener!.changed([1, 7], 'database');
    expect(sut.get('a')).toBeUndefined();
    expect(sut.get('a2')).toBeUndefined();
    expect(sut.get('b')).toEqual(answer(2));
  });

  it('forgets everything on a notification that cannot name the models', () => {
    store('a', answer(1));
    store('b', answer(2));
    changes.listener!.changed('all', 'database');
    expect([sut.get('a'), sut.get('b')]).toEqual([undefined, undefined]);
  });

  it('is emptied and bypassed while notifications are not heard, and works again once they are', () => {
    store('a', answer(1));
    changes.connected = false;
    changes.listener!.connection(false);
    expect(sut.get('a')).toBeUndefined();
    expect(sut.begin()).toBeUndefined();
    changes.connected = true;
    changes.listener!.connection(true);
    expect(sut.get('a')).toBeUndefined();
    store('a', answer(1));
    expect(sut.get('a')).toEqual(answer(1));
  });

  it('a read in flight when the connection dropped is not stored after it comes back', () => {
    const ticket = sut.begin();
    changes.connected = false;
    changes.listener!.connection(false);
    changes.connected = true;
    changes.listener!.connection(true);
    sut.fill(ticket, 'a', answer(1));
    expect(sut.get('a')).toBeUndefined();
  });

  it('keeps an answer at most RESOLVE_CACHE_TTL_MS from when its read began', () => {
    const ticket = sut.begin();
    jest.advanceTimersByTime(400);
    sut.fill(ticket, 'a', answer(1));
    jest.advanceTimersByTime(599);
    expect(sut.get('a')).toEqual(answer(1));
    jest.advanceTimersByTime(1);
    expect(sut.get('a')).toBeUndefined();
  });

  it('holds at most RESOLVE_CACHE_MAX_ENTRIES, evicting the least recently used', () => {
    store('a', answer(1));
    store('b', answer(2));
    store('c', answer(3));
    sut.get('a');
    store('d', answer(4));
    expect(sut.get('b')).toBeUndefined();
    expect([sut.get('a'), sut.get('c'), sut.get('d')]).toEqual([answer(1), answer(3), answer(4)]);
  });

  it('after a write through this replica, reads the database until a round trip proves its notification was handled', async () => {
    store('a', answer(1));
    changes.localWrites = 1;
    expect(sut.get('a')).toBeUndefined();
    expect(changes.roundTrips).toHaveLength(1);
    // Another write before the round trip returns: still not synced for it.
    changes.localWrites = 2;
    expect(sut.get('a')).toBeUndefined();
    changes.roundTrips.shift()!(true);
    await Promise.resolve();
    expect(sut.get('a')).toBeUndefined();
    expect(changes.roundTrips).toHaveLength(1);
    changes.roundTrips.shift()!(true);
    await Promise.resolve();
    expect(sut.get('a')).toEqual(answer(1));
  });

  it('a failed round trip does not count as synced', async () => {
    store('a', answer(1));
    changes.localWrites = 1;
    sut.get('a');
    changes.roundTrips.shift()!(false);
    await Promise.resolve();
    expect(sut.get('a')).toBeUndefined();
  });

  it('once notifications are back, writes answered before count as reflected (the cache was emptied; reads since see them)', async () => {
    changes.localWrites = 1;
    expect(sut.begin()).toBeUndefined();
    expect(changes.roundTrips).toHaveLength(1);
    // The round trip for that write is lost with the connection.
    changes.connected = false;
    changes.listener!.connection(false);
    changes.roundTrips.shift()!(false);
    await Promise.resolve();
    changes.connected = true;
    changes.listener!.connection(true);
    store('a', answer(1));
    expect(sut.get('a')).toEqual(answer(1));
    // A round trip started earlier that comes back late never moves the mark backwards.
    changes.localWrites = 2;
    sut.get('a');
    changes.localWrites = 3;
    changes.listener!.connection(true);
    changes.roundTrips.shift()!(true);
    await Promise.resolve();
    store('a', answer(1));
    expect(sut.get('a')).toEqual(answer(1));
  });

  it('is never used when RESOLVE_CACHE is off', () => {
    const off = new ResolveCache(changes as unknown as RegistryChanges, { ...config, resolveCache: false });
    off.fill(off.begin(), 'a', answer(1));
    expect(off.get('a')).toBeUndefined();
  });
});
