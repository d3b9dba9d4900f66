import { committedBefore, compareCursors, parseSnapshot, subscriptionMatches, type FeedEvent, type Subscription } from './webhook-matcher';
import { parseSelector } from '../common/labels/selector';

const makeSubscription = (overrides: Partial<Subscription> = {}): Subscription => ({
  id: 1,
  events: ['*'],
  modelId: null,
  selector: null,
  start: parseSnapshot('100:105:100,103'),
  ...overrides,
});
const makeEvent = (overrides: Partial<FeedEvent> = {}): FeedEvent => ({ id: 11, tx_id: '200', type: 'version.created', model_id: 7, ...overrides });
const labels: Record<number, Record<string, string>> = { 7: { team: 'payments', env: 'prod' }, 8: {} };
const labelsOf = (id: number) => labels[id];

describe(compareCursors.name, () => {
  it('orders by transaction id exactly beyond 2^53, then by event id', () => {
    expect(compareCursors({ txId: '18446744073709551614', id: 1 }, { txId: '18446744073709551615', id: 1 })).toBe(-1);
    expect(compareCursors({ txId: '9007199254740993', id: 1 }, { txId: '9007199254740992', id: 5 })).toBe(1);
    expect(compareCursors({ txId: '5', id: 2 }, { txId: '5', id: 3 })).toBe(-1);
    expect(compareCursors({ txId: '5', id: 3 }, { txId: '5', id: 3 })).toBe(0);
  });
});

describe(committedBefore.name, () => {
  it('follows PostgreSQL: below xmin, or below xmax and not in progress', () => {
    const snapshot = parseSnapshot('18446744073709551000:18446744073709551010:18446744073709551003');
    expect(committedBefore(snapshot, '18446744073709550999')).toBe(true);
    expect(committedBefore(snapshot, '18446744073709551002')).toBe(true);
    expect(committedBefore(snapshot, '18446744073709551003')).toBe(false);
    expect(committedBefore(snapshot, '18446744073709551010')).toBe(false);
    expect(parseSnapshot('5:5:').inProgress.size).toBe(0);
    expect(() => parseSnapshot('garbage')).toThrow();
  });
});

describe(subscriptionMatches.name, () => {
  it('delivers only events of transactions that committed after the subscription was created', () => {
    const sut = makeSubscription();
    expect(['99', '101', '102', '104'].map((tx) => subscriptionMatches(sut, makeEvent({ tx_id: tx }), labelsOf))).toEqual([false, false, false, false]);
    expect(['100', '103', '105', '900'].map((tx) => subscriptionMatches(sut, makeEvent({ tx_id: tx }), labelsOf))).toEqual([true, true, true, true]);
    expect(subscriptionMatches(makeSubscription({ start: null }), makeEvent({ tx_id: '1' }), labelsOf)).toBe(true);
  });

  it('filters by type, or takes every type with *', () => {
    const sut = makeSubscription({ events: ['alias.set', 'version.created'] });
    expect(subscriptionMatches(sut, makeEvent(), labelsOf)).toBe(true);
    expect(subscriptionMatches(sut, makeEvent({ type: 'model.updated' }), labelsOf)).toBe(false);
  });

  it('takes alias.updated as the name of alias.set, and nothing else', () => {
    const sut = makeSubscription({ events: ['alias.updated'] });
    expect(subscriptionMatches(sut, makeEvent({ type: 'alias.set' }), labelsOf)).toBe(true);
    expect(subscriptionMatches(sut, makeEvent({ type: 'alias.deleted' }), labelsOf)).toBe(false);
    expect(subscriptionMatches(sut, makeEvent({ type: 'version.updated' }), labelsOf)).toBe(false);
  });

  it('filters by model', () => {
    const sut = makeSubscription({ modelId: 7 });
    expect(subscriptionMatches(sut, makeEvent(), labelsOf)).toBe(true);
    expect(subscriptionMatches(sut, makeEvent({ model_id: 8 }), labelsOf)).toBe(false);
    expect(subscriptionMatches(sut, makeEvent({ model_id: null }), labelsOf)).toBe(false);
  });

  it("matches a selector against the event's model labels, and never on unknown labels", () => {
    const sut = makeSubscription({ selector: parseSelector('team in (payments, search), env!=staging') });
    expect(subscriptionMatches(sut, makeEvent(), labelsOf)).toBe(true);
    expect(subscriptionMatches(sut, makeEvent({ model_id: 8 }), labelsOf)).toBe(false);
    expect(subscriptionMatches(sut, makeEvent({ model_id: 9 }), labelsOf)).toBe(false);
    expect(subscriptionMatches(makeSubscription({ selector: parseSelector('!team') }), makeEvent({ model_id: 9 }), labelsOf)).toBe(false);
    expect(subscriptionMatches(makeSubscription({ selector: parseSelector('!team') }), makeEvent({ model_id: 8 }), labelsOf)).toBe(true);
  });
});
