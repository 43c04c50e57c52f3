import type { RiskLevel, RiskNode } from '@vigil/contracts';

import { areaLevels, defaultNode, pathTo, raisedNodes, sortedChildren } from './risk-view';

function node(
  key: string,
  level: RiskLevel,
  children: RiskNode[] = [],
  inherent: RiskLevel = level,
): RiskNode {
  const [kind, id = ''] = key.split(':') as [RiskNode['kind'], string];
  return {
    key,
    id: id.includes('/') ? (id.split('/')[1] as string) : id,
    kind,
    name: id,
    inherent,
    level,
    reasons: [],
    areas: { red: 0, orange: 0, yellow: 0, blue: 0 },
    children,
  };
}

const tree = [
  node('city:c', 'red', [
    node('park:p', 'red', [
      node('enterprise:e', 'red', [
        node('site:s', 'red', [
          node('area:s/tanks', 'red', [], 'yellow'),
          node('area:s/office', 'blue'),
          node('area:s/unit', 'orange'),
        ]),
      ]),
    ]),
    node('county:k', 'blue'),
  ]),
];

describe('risk map helpers', () => {
  it('finds the drill-down path to a node', () => {
    expect(pathTo(tree, 'area:s/office').map(n => n.key)).toEqual([
      'city:c',
      'park:p',
      'enterprise:e',
      'site:s',
      'area:s/office',
    ]);
    expect(pathTo(tree, 'nowhere')).toEqual([]);
  });

  it('opens at the deepest node above the areas that has no siblings', () => {
    expect(defaultNode(tree)?.key).toBe('city:c');
    expect(defaultNode([pathTo(tree, 'enterprise:e').at(-1) as RiskNode])?.key).toBe('site:s');
    expect(defaultNode([])).toBeUndefined();
  });

  it('lists children worst first and finds areas raised above their inherent colour', () => {
    const site = pathTo(tree, 'site:s').at(-1) as RiskNode;
    expect(sortedChildren(site).map(n => n.id)).toEqual(['tanks', 'unit', 'office']);
    expect(raisedNodes(tree).map(n => n.key)).toEqual(['area:s/tanks']);
    expect([...areaLevels(tree, 's').keys()]).toEqual(['tanks', 'office', 'unit']);
  });
});
