import {
  matchesLabelSelectorObject,
  matchesLabels,
  parseLabelSelector,
  SelectorParseError,
} from './labelSelector';

describe('parseLabelSelector', () => {
  it('parses nothing to no requirements', () => {
    expect(parseLabelSelector(undefined)).toEqual([]);
    expect(parseLabelSelector(null)).toEqual([]);
    expect(parseLabelSelector('')).toEqual([]);
    expect(parseLabelSelector('   ')).toEqual([]);
  });

  it.each([
    ['app=web', [{ op: 'eq', key: 'app', value: 'web' }]],
    ['app==web', [{ op: 'eq', key: 'app', value: 'web' }]],
    ['app = web', [{ op: 'eq', key: 'app', value: 'web' }]],
    ['app!=web', [{ op: 'neq', key: 'app', value: 'web' }]],
    ['app=', [{ op: 'eq', key: 'app', value: '' }]],
    ['env in (prod,dev)', [{ op: 'in', key: 'env', values: ['prod', 'dev'] }]],
    [
      'env in ( prod , dev )',
      [{ op: 'in', key: 'env', values: ['prod', 'dev'] }],
    ],
    ['env notin (prod)', [{ op: 'notin', key: 'env', values: ['prod'] }]],
    ['canary', [{ op: 'exists', key: 'canary' }]],
    ['!canary', [{ op: 'notexists', key: 'canary' }]],
    ['! canary', [{ op: 'notexists', key: 'canary' }]],
    ['replicas>2', [{ op: 'gt', key: 'replicas', value: 2 }]],
    ['replicas < -1', [{ op: 'lt', key: 'replicas', value: -1 }]],
    [
      'istio.io/rev=asm-1-29',
      [{ op: 'eq', key: 'istio.io/rev', value: 'asm-1-29' }],
    ],
    [
      'app=web, env in (prod,dev),!canary',
      [
        { op: 'eq', key: 'app', value: 'web' },
        { op: 'in', key: 'env', values: ['prod', 'dev'] },
        { op: 'notexists', key: 'canary' },
      ],
    ],
  ])('parses %j', (selector, expected) => {
    expect(parseLabelSelector(selector)).toEqual(expected);
  });

  it.each([
    ['env in (prod', 'unbalanced parentheses in "env in (prod"'],
    ['env in prod)', 'unbalanced parentheses in "env in prod)"'],
    ['app=web,', 'empty requirement in "app=web,"'],
    [',app=web', 'empty requirement in ",app=web"'],
    ['=web', 'unable to parse requirement "=web"'],
    ['app=front end', 'unable to parse requirement "app=front end"'],
    ['app=web=x', 'unable to parse requirement "app=web=x"'],
    ['Bad_Prefix/app=web', 'invalid label key "Bad_Prefix/app"'],
    ['-app=web', 'invalid label key "-app"'],
    [`${'k'.repeat(64)}=v`, `invalid label key "${'k'.repeat(64)}"`],
    ['app=web$', 'invalid label value "web$"'],
    [`app=${'v'.repeat(64)}`, `invalid label value "${'v'.repeat(64)}"`],
    ['env in (prod,-dev)', 'invalid label value "-dev"'],
    ['!app=web', 'invalid label key "app=web"'],
    [
      'replicas>two',
      `for 'Gt', 'Lt' operators, the value must be an integer, got "two"`,
    ],
  ])('rejects %j', (selector, message) => {
    expect(() => parseLabelSelector(selector)).toThrow(SelectorParseError);
    expect(() => parseLabelSelector(selector)).toThrow(message);
  });
});

describe('matchesLabels', () => {
  const labels = { app: 'web', env: 'prod', replicas: '3', weight: 'heavy' };
  const matches = (selector: string, l: Record<string, string> = labels) =>
    matchesLabels(parseLabelSelector(selector), l);

  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=api', false],
    ['missing=x', false],
    ['app!=api', true],
    ['app!=web', false],
    ['missing!=x', true], // a missing label is "not equal"
    ['env in (prod,dev)', true],
    ['env in (dev)', false],
    ['missing in (x)', false],
    ['env notin (dev)', true],
    ['env notin (prod)', false],
    ['missing notin (x)', true], // and "not in"
    ['app', true],
    ['missing', false],
    ['!missing', true],
    ['!app', false],
    ['replicas>2', true],
    ['replicas>3', false],
    ['replicas<4', true],
    ['replicas<3', false],
    ['weight>0', false], // not an integer: never matches gt/lt
    ['missing<10', false],
    ['app=web,env=prod', true],
    ['app=web,env=dev', false],
  ])('%j matches: %s', (selector, expected) => {
    expect(matches(selector)).toBe(expected);
  });

  it('treats an object without labels as having none', () => {
    const unlabelled = (selector: string) =>
      matchesLabels(parseLabelSelector(selector), undefined);
    expect(unlabelled('!app')).toBe(true);
    expect(unlabelled('app')).toBe(false);
    expect(unlabelled('app!=web')).toBe(true);
    expect(unlabelled('app notin (web)')).toBe(true);
    expect(unlabelled('app in (web)')).toBe(false);
    expect(unlabelled('')).toBe(true);
  });

  it('does not match inherited properties as labels', () => {
    expect(matches('constructor', {})).toBe(false);
    expect(matches('!toString', {})).toBe(true);
  });
});

describe('matchesLabelSelectorObject (webhook and workload selectors)', () => {
  const labels = { 'istio.io/rev': 'asm-1-29', app: 'web' };

  it.each([
    [undefined, true],
    [{}, true],
    [{ matchLabels: { app: 'web' } }, true],
    [{ matchLabels: { app: 'api' } }, false],
    [
      {
        matchExpressions: [
          { key: 'istio.io/rev', operator: 'In', values: ['asm-1-29'] },
          { key: 'istio-injection', operator: 'DoesNotExist' },
        ],
      },
      true,
    ],
    [
      {
        matchExpressions: [
          { key: 'istio.io/rev', operator: 'NotIn', values: ['asm-1-29'] },
        ],
      },
      false,
    ],
    [
      {
        matchExpressions: [
          {
            key: 'sidecar.istio.io/inject',
            operator: 'NotIn',
            values: ['false'],
          },
        ],
      },
      true, // NotIn matches a missing key
    ],
    [{ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, true],
    [
      { matchExpressions: [{ key: 'app', operator: 'Gt', values: ['1'] }] },
      false,
    ],
  ])('%j matches: %s', (selector, expected) => {
    expect(matchesLabelSelectorObject(selector as any, labels)).toBe(expected);
  });
});
