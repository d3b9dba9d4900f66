import { setTimeout as sleep } from 'node:timers/promises';
import { RequestContext, systemActor, type RequestContextStore } from './request-context';

const store = (job: string): RequestContextStore => ({ actor: systemActor(job), requestId: job });

describe('RequestContext', () => {
  it('carries the context across awaits, and only inside the work', async () => {
    expect(RequestContext.current()).toBeUndefined();
    const seen = await RequestContext.run(store('a'), async () => {
      await sleep(5);
      return RequestContext.current()?.actor.actor;
    });
    expect(seen).toBe('system:a');
    expect(RequestContext.current()).toBeUndefined();
  });

  it('keeps overlapping contexts apart while the storage is switched on and off', async () => {
    const observed: string[] = [];
    const work = (name: string, ms: number) =>
      RequestContext.run(store(name), async () => {
        await sleep(ms);
        observed.push(`${name}:${RequestContext.current()?.requestId}`);
        await sleep(ms);
        observed.push(`${name}:${RequestContext.current()?.requestId}`);
      });
    await Promise.all([work('short', 2), work('long', 15)]);
    await work('again', 1);
    expect(observed.sort()).toEqual(['again:again', 'again:again', 'long:long', 'long:long', 'short:short', 'short:short']);
  });

  it('enter keeps the context until it is left, once', async () => {
    let seen: string | undefined;
    const leave = RequestContext.enter(store('hook'), () => {
      void sleep(5).then(() => (seen = RequestContext.current()?.requestId ?? undefined));
    });
    await sleep(20);
    expect(seen).toBe('hook');
    leave();
    leave();
    expect(await RequestContext.run(store('next'), async () => RequestContext.current()?.requestId)).toBe('next');
  });
});
