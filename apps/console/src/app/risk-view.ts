import { RISK_LEVELS, type RiskNode } from '@vigil/contracts';

/** The path from a root to the node with `key` (inclusive), or [] when it is not in the tree. */
export function pathTo(roots: readonly RiskNode[], key: string): RiskNode[] {
  for (const root of roots) {
    if (root.key === key) return [root];
    const below = pathTo(root.children, key);
    if (below.length > 0) return [root, ...below];
  }
  return [];
}

/**
 * Where the risk map opens: the first root, then down through single children (an enterprise user
 * with one site starts at the site), stopping above the areas.
 */
export function defaultNode(roots: readonly RiskNode[]): RiskNode | undefined {
  let node = roots[0];
  while (node && node.children.length === 1 && node.children[0]?.kind !== 'area')
    node = node.children[0];
  return node;
}

/** Children worst first (red before blue), then by name: what needs attention comes first. */
export function sortedChildren(node: RiskNode): RiskNode[] {
  return [...node.children].sort(
    (a, b) =>
      RISK_LEVELS.indexOf(a.level) - RISK_LEVELS.indexOf(b.level) || a.name.localeCompare(b.name),
  );
}

/** Nodes whose dynamic colour is above their inherent one: the changes the operator must see. */
export function raisedNodes(roots: readonly RiskNode[]): RiskNode[] {
  const raised: RiskNode[] = [];
  const visit = (node: RiskNode) => {
    if (
      node.kind === 'area' &&
      RISK_LEVELS.indexOf(node.level) < RISK_LEVELS.indexOf(node.inherent)
    )
      raised.push(node);
    node.children.forEach(visit);
  };
  roots.forEach(visit);
  return raised;
}

/** Area nodes of a site, keyed by area id, for colouring the site plan. */
export function areaLevels(roots: readonly RiskNode[], siteId: string): Map<string, RiskNode> {
  const levels = new Map<string, RiskNode>();
  const site = pathTo(roots, `site:${siteId}`).at(-1);
  for (const area of site?.children ?? []) levels.set(area.id, area);
  return levels;
}
