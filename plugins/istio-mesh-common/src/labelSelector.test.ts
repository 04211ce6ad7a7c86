import { LabelSelectorError, matchesLabelSelector, parseLabelSelector } from './labelSelector';

const labels = { app: 'checkout', tier: 'web', 'backstage.io/kubernetes-id': 'checkout' };
const matches = (selector: string) => matchesLabelSelector(parseLabelSelector(selector), labels);

describe('label selectors', () => {
  it.each([
    ['app=checkout', true],
    ['app==checkout', true],
    ['app=cart', false],
    ['app!=cart', true],
    ['missing!=x', true],
    ['app in (cart, checkout)', true],
    ['app notin (cart,checkout)', false],
    ['missing notin (a)', true],
    ['tier', true],
    ['!tier', false],
    ['!missing', true],
    ['app=checkout,tier in (web,api),!canary', true],
    ['backstage.io/kubernetes-id=checkout', true],
    ['', true],
  ])('%j matches: %s', (selector, expected) => {
    expect(matches(selector)).toBe(expected);
  });

  it.each(['app in (a', 'app=(x)', 'a b', 'app in ((a))'])('rejects %j', selector => {
    expect(() => parseLabelSelector(selector)).toThrow(LabelSelectorError);
  });
});
