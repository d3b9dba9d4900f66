import { parseWebhookSelector, SelectorSyntaxError } from './webhook-selector';

describe(parseWebhookSelector.name, () => {
  const labels = { team: 'payments', env: 'prod', 'example.com/tier': 'gold', empty: '' };
  const matches = (selector: string) => parseWebhookSelector(selector).matches(labels);

  it.each([
    ['team=payments', true],
    ['team==payments', true],
    ['team = payments', true],
    ['team!=payments', false],
    ['owner!=x', true],
    ['team in (payments, search)', true],
    ['team in(search)', false],
    ['env notin (staging,dev)', true],
    ['owner notin (a)', true],
    ['team', true],
    ['owner', false],
    ['!owner', true],
    ['! team', false],
    ['example.com/tier=gold', true],
    ['empty=', true],
    ['team=payments,env=prod', true],
    ['team=payments, env=staging', false],
  ])('%s → %s', (selector, expected) => {
    expect(matches(selector)).toBe(expected);
  });

  it.each([
    ['', 0],
    ['team=', -1],
    ['team=payments,', 14],
    ['team in (a', 10],
    ['team in ()', 9],
    ['-bad=x', 0],
    ['team=a b', 7],
    ['team ~ a', 5],
    [`k=${'v'.repeat(64)}`, 2],
  ])('refuses %j, saying where', (selector, position) => {
    if (position === -1) return expect(matches(selector)).toBe(false);
    expect(() => parseWebhookSelector(selector)).toThrow(SelectorSyntaxError);
    try {
      parseWebhookSelector(selector);
    } catch (error) {
      expect((error as SelectorSyntaxError).position).toBe(position);
    }
  });
});
