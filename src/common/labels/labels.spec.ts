import fc from 'fast-check';
import { labelKeyProblem, labelsProblems, labelValueProblem } from './label-rules';
import { formatSelector, matchesSelector, parseSelector, SelectorSyntaxError, type Requirement } from './selector';
import { selectorAsJson, selectorCondition } from './selector-sql';
import { selectorArbitrary } from '../../../test/support/label-arbitraries';

describe('label rules', () => {
  it.each(['app', 'a', 'A1', 'team.name', 'my_label-2', 'example.com/app', 'a.b-c.d/x.Y_z', `${'a'.repeat(63)}`, `${'b'.repeat(253)}/n`])('accepts the key %s', (key) =>
    expect(labelKeyProblem(key)).toBeUndefined(),
  );

  it.each([
    ['', 'empty name'],
    ['-app', 'invalid name'],
    ['app-', 'invalid name'],
    ['a b', 'invalid name'],
    ['é', 'invalid name'],
    ['a'.repeat(64), 'invalid name'],
    ['/app', 'empty prefix'],
    ['Example.com/app', 'invalid prefix'],
    ['exa_mple.com/app', 'invalid prefix'],
    ['example.com/', 'empty name'],
    ['a/b/c', 'invalid name'],
    [`${'b'.repeat(254)}/n`, 'invalid prefix'],
  ])('rejects the key %j (%s)', (key, problem) => expect(labelKeyProblem(key)).toContain(problem));

  it.each(['', 'prod', 'v1.2.3', 'A_b-c', 'x'.repeat(63)])('accepts the value %j', (value) => expect(labelValueProblem(value)).toBeUndefined());
  it.each(['-x', 'x-', 'a b', 'x'.repeat(64), 'a/b', 'naïve'])('rejects the value %j', (value) => expect(labelValueProblem(value)).toBeDefined());
  it.each([5, null, true, {}, []])('rejects the non-string value %j', (value) => expect(labelValueProblem(value)).toBe('must be a string'));

  it('checks whole label sets: object, count, each key and value, named in the message', () => {
    expect(labelsProblems({})).toEqual([]);
    expect(labelsProblems({ env: 'prod', 'example.com/team': 'search', empty: '' })).toEqual([]);
    expect(labelsProblems(['env'])).toEqual(['must be an object of label keys to string values']);
    expect(labelsProblems(null)).toEqual(['must be an object of label keys to string values']);
    expect(labelsProblems(Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])))).toEqual(['must have at most 64 labels (got 65)']);
    expect(labelsProblems(Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, 'v'])))).toEqual([]);
    expect(labelsProblems({ 'bad key': 'x', good: 'bad value', n: 3 })).toEqual([
      expect.stringMatching(/^key "bad key" has an invalid name/),
      expect.stringMatching(/^value of "good" must be empty or/),
      'value of "n" must be a string',
    ]);
  });
});

describe('parseSelector', () => {
  const req = (key: string, operator: Requirement['operator'], values: string[] = []): Requirement => ({ key, operator, values });

  it('parses every operator', () => {
    expect(parseSelector('env=prod')).toEqual([req('env', '=', ['prod'])]);
    expect(parseSelector('env==prod')).toEqual([req('env', '=', ['prod'])]);
    expect(parseSelector('env!=prod')).toEqual([req('env', '!=', ['prod'])]);
    expect(parseSelector('env in (prod, staging)')).toEqual([req('env', 'in', ['prod', 'staging'])]);
    expect(parseSelector('env notin (dev)')).toEqual([req('env', 'notin', ['dev'])]);
    expect(parseSelector('example.com/owner')).toEqual([req('example.com/owner', 'exists')]);
    expect(parseSelector('!canary')).toEqual([req('canary', '!exists')]);
  });

  it('combines requirements with commas (AND), ignoring whitespace', () => {
    expect(parseSelector(' env = prod , tier in(a,b),!legacy ,owner ')).toEqual([
      req('env', '=', ['prod']),
      req('tier', 'in', ['a', 'b']),
      req('legacy', '!exists'),
      req('owner', 'exists'),
    ]);
  });

  it('takes empty values as Kubernetes does', () => {
    expect(parseSelector('env=')).toEqual([req('env', '=', [''])]);
    expect(parseSelector('env!=,x')).toEqual([req('env', '!=', ['']), req('x', 'exists')]);
    expect(parseSelector('env in (a,)')).toEqual([req('env', 'in', ['a', ''])]);
    expect(parseSelector('env in (a,a)')).toEqual([req('env', 'in', ['a'])]);
    expect(parseSelector('env in (,)')).toEqual([req('env', 'in', [''])]);
  });

  it('an empty selector has no requirement', () => {
    expect(parseSelector('')).toEqual([]);
    expect(parseSelector('   ')).toEqual([]);
  });

  it.each([
    ['env=prod,', 10, 'expected a label key, found the end of the selector'],
    [',env', 1, 'expected a label key, found ","'],
    ['env prod', 5, 'expected "=", "==", "!=", "in", "notin", "," or the end of the selector after key "env", found "prod"'],
    ['env in prod', 8, 'expected "(" after "in", found "prod"'],
    ['env in (a b)', 11, 'expected "," or ")" in the value set, found "b"'],
    ['env in ()', 9, 'the value set of "in" cannot be empty'],
    ['env in (a', 10, 'expected "," or ")" in the value set, found the end of the selector'],
    ['env=a=b', 6, 'expected "," or the end of the selector, found "="'],
    ['!env=prod', 5, '"!env" takes no operator or value'],
    ['env>3', 4, 'operator ">" is not supported'],
    ['bad key=x', 5, 'expected "=", "==", "!=", "in", "notin", "," or the end of the selector after key "bad", found "key"'],
    ['-env=x', 1, 'label key "-env" has an invalid name'],
    ['env=-x', 5, 'label value "-x" must be empty or'],
    ['Example.com/a=b', 1, 'label key "Example.com/a" has an invalid prefix'],
    ['a=(b)', 3, 'expected a label value, found "("'],
  ])('%j fails at character %i: %s', (input, character, reason) => {
    let error: unknown;
    try {
      parseSelector(input);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SelectorSyntaxError);
    expect((error as SelectorSyntaxError).position + 1).toBe(character);
    expect((error as SelectorSyntaxError).message).toContain(`at character ${character}: ${reason}`);
  });

  it('bounds the input: length, requirements and set sizes', () => {
    expect(() => parseSelector('a'.repeat(5000))).toThrow(/at most 4096 characters/);
    expect(() => parseSelector(Array.from({ length: 65 }, (_, i) => `k${i}`).join(','))).toThrow(/at most 64 requirements/);
    expect(() => parseSelector(`k in (${Array.from({ length: 101 }, (_, i) => `v${i}`).join(',')})`)).toThrow(/at most 100 values/);
  });

  it('formats a canonical text that parses back to the same requirements (property)', () => {
    fc.assert(
      fc.property(selectorArbitrary, (requirements) => {
        expect(parseSelector(formatSelector(requirements))).toEqual(requirements);
      }),
    );
  });
});


describe('matchesSelector (the reference evaluator)', () => {
  const labels = { env: 'prod', tier: '', team: 'search' };
  it.each([
    ['env=prod', true],
    ['env==dev', false],
    ['env!=dev', true],
    ['missing!=x', true],
    ['env in (dev,prod)', true],
    ['env notin (dev,prod)', false],
    ['missing notin (x)', true],
    ['missing in (x)', false],
    ['tier', true],
    ['tier=', true],
    ['!tier', false],
    ['!missing', true],
    ['env=prod,team=search,!canary', true],
    ['env=prod,team=ads', false],
    ['', true],
  ])('%j → %s', (selector, expected) => expect(matchesSelector(parseSelector(selector), labels)).toBe(expected));

  it('does not treat inherited object properties as labels', () => {
    expect(matchesSelector(parseSelector('constructor'), {})).toBe(false);
    expect(matchesSelector(parseSelector('toString!=x'), {})).toBe(true);
  });
});

describe('selectorCondition', () => {
  const build = (selector: string) => {
    const params: unknown[] = [];
    const sql = selectorCondition(parseSelector(selector), 'v.labels', (value) => {
      params.push(value);
      return `$${params.length}`;
    });
    return { sql, params };
  };

  it('merges equalities into one containment and writes in as an OR of containments', () => {
    expect(build('env=prod,team in (a),tier in (x,y)')).toEqual({
      sql: 'v.labels @> $1::jsonb AND (v.labels @> $2::jsonb OR v.labels @> $3::jsonb)',
      params: ['{"env":"prod","team":"a"}', '{"tier":"x"}', '{"tier":"y"}'],
    });
  });

  it('writes negations and existence tests with parameters only', () => {
    expect(build('env!=prod,tier notin (a,b),owner,!canary')).toEqual({
      sql: 'NOT (v.labels @> $1::jsonb) AND NOT (v.labels @> $2::jsonb OR v.labels @> $3::jsonb) AND jsonb_exists(v.labels, $4::text) AND NOT jsonb_exists(v.labels, $5::text)',
      params: ['{"env":"prod"}', '{"tier":"a"}', '{"tier":"b"}', 'owner', 'canary'],
    });
  });

  it('two different required values for one key match nothing', () => {
    expect(build('env=prod,env=dev').sql).toBe('false');
    expect(build('env=prod,env=prod').sql).toBe('v.labels @> $1::jsonb');
  });

  it('no requirement, no condition', () => {
    expect(build('').sql).toBeUndefined();
    expect(selectorAsJson([])).toBeNull();
  });

  it('gives the database function a normalised form', () => {
    expect(JSON.parse(selectorAsJson(parseSelector('a=1,b!=2,c in (x,y),d notin (z),e,!f'))!)).toEqual([
      { key: 'a', op: 'in', values: ['1'] },
      { key: 'b', op: 'notin', values: ['2'] },
      { key: 'c', op: 'in', values: ['x', 'y'] },
      { key: 'd', op: 'notin', values: ['z'] },
      { key: 'e', op: 'exists', values: [] },
      { key: 'f', op: 'not_exists', values: [] },
    ]);
  });
});
