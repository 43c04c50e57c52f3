/** A person's position for clustering: metres in the site frame, and the floor. */
export interface ClusterPoint {
  readonly x: number;
  readonly y: number;
  readonly floor: number;
}

/** Cell indices stay below 2^19 in magnitude for any site up to 7,800 km × linkDistance/1 m. */
const CELL_OFFSET = 2 ** 19;
const CELL_STRIDE = 2 ** 20;

/**
 * Single-linkage clusters: the connected components of the graph joining two points on the same
 * floor at most `linkDistanceM` apart. Returns the components with at least `minSize` points, each
 * as ascending indices into `points`, ordered by their smallest index.
 *
 * Neighbour search uses a uniform grid with cells of `linkDistanceM`, so any partner of a point lies
 * in its own cell or one of the 8 around it: O(n) expected for people spread over a site, O(k²)
 * within a cell of k people (a dense crowd of 100 costs 10,000 distance checks).
 */
export function clusterPoints(
  points: readonly ClusterPoint[],
  linkDistanceM: number,
  minSize = 1,
): number[][] {
  const count = points.length;
  if (count === 0 || count < minSize) return [];
  const cellSize = linkDistanceM > 0 ? linkDistanceM : 1;
  const limit = linkDistanceM * linkDistanceM;
  const parent = new Int32Array(count);
  const cellOf = new Float64Array(count);
  const grid = new Map<number, number[]>();

  for (let index = 0; index < count; index += 1) {
    parent[index] = index;
    const point = points[index] as ClusterPoint;
    const cell = cellKey(Math.floor(point.x / cellSize), Math.floor(point.y / cellSize));
    cellOf[index] = cell;
    const members = grid.get(cell);
    if (members) members.push(index);
    else grid.set(cell, [index]);
  }

  const find = (start: number): number => {
    let root = start;
    while (parent[root] !== root) root = parent[root] as number;
    for (let node = start; node !== root; ) {
      const next = parent[node] as number;
      parent[node] = root;
      node = next;
    }
    return root;
  };

  for (let index = 0; index < count; index += 1) {
    const point = points[index] as ClusterPoint;
    const cell = cellOf[index] as number;
    for (let dx = -1; dx <= 1; dx += 1) {
      for (let dy = -1; dy <= 1; dy += 1) {
        const neighbours = grid.get(cell + dx * CELL_STRIDE + dy);
        if (!neighbours) continue;
        for (const other of neighbours) {
          if (other <= index) continue; // each pair once
          const partner = points[other] as ClusterPoint;
          if (partner.floor !== point.floor) continue;
          const ex = partner.x - point.x;
          const ey = partner.y - point.y;
          if (ex * ex + ey * ey > limit) continue;
          const a = find(index);
          const b = find(other);
          if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
        }
      }
    }
  }

  const byRoot = new Map<number, number[]>();
  for (let index = 0; index < count; index += 1) {
    const root = find(index);
    const members = byRoot.get(root);
    if (members) members.push(index);
    else byRoot.set(root, [index]);
  }
  const clusters: number[][] = [];
  for (const members of byRoot.values()) {
    if (members.length >= minSize) clusters.push(members);
  }
  return clusters;
}

function cellKey(cx: number, cy: number): number {
  return cx * CELL_STRIDE + (cy + CELL_OFFSET);
}
