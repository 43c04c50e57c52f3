/** A person's position for clustering: metres in the site frame, and the floor. */
export interface ClusterPoint {
  readonly x: number;
  readonly y: number;
  readonly floor: number;
}

/**
 * Cell side = link distance / √2, so that any two points of one cell are within the link distance
 * (the cell's diagonal); shortened by a hair so that rounding never links a pair just beyond it.
 */
const CELL_FRACTION = Math.SQRT1_2 * (1 - 1e-12);

/**
 * Cells that may hold a partner of a point in cell (0, 0): the 5 × 5 block (the nearest points of
 * cells 3 apart are 2 cell sides ≈ 1.41 × link distance apart). Only the "forward" half is
 * listed: the other half sees this cell as its forward neighbour, so each cell pair is visited once.
 */
const FORWARD_DX = Int8Array.of(0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2);
const FORWARD_DY = Int8Array.of(1, 2, -2, -1, 0, 1, 2, -2, -1, 0, 1, 2);

/** A dense grid is used while it has at most this many cells per point (else a map of cells). */
const DENSE_CELLS_PER_POINT = 8;

/**
 * Single-linkage clusters: the connected components of the graph joining two points on the same
 * floor at most `linkDistanceM` apart. Returns the components with at least `minSize` points, each
 * as ascending indices into `points`, ordered by their smallest index.
 *
 * Uniform grid, cell side `linkDistanceM / √2`: the points of a cell are all linked to each other
 * at once, and a pair of neighbouring cells is scanned only until its first link, and not at all
 * when the two cells are already connected. O(n) for people spread over a site and for a dense
 * crowd alike (5,000 people in one 100 m square are one cluster after about n unions); the
 * worst case, cell pairs with many people and no link between them, cannot be large since their
 * people would have to keep more than `linkDistanceM` from everyone in the other cell.
 */
export function clusterPoints(
  points: readonly ClusterPoint[],
  linkDistanceM: number,
  minSize = 1,
): number[][] {
  if (!(linkDistanceM > 0)) throw new RangeError(`linkDistanceM must be > 0, got ${linkDistanceM}`);
  const count = points.length;
  if (count === 0 || count < minSize) return [];
  const parent = new Int32Array(count);
  for (let index = 0; index < count; index += 1) parent[index] = index;
  const find = (start: number): number => {
    let root = start;
    while (parent[root] !== root) root = parent[root] as number;
    for (let node = start; node !== root;) {
      const next = parent[node] as number;
      parent[node] = root;
      node = next;
    }
    return root;
  };
  const union = (a: number, b: number): void => {
    const rootA = find(a);
    const rootB = find(b);
    // The smaller index stays the root: the output order below relies on it.
    if (rootA !== rootB) parent[Math.max(rootA, rootB)] = Math.min(rootA, rootB);
  };

  for (const group of byFloor(points)) {
    linkGroup(points, group, linkDistanceM, find, union);
  }

  // Roots are the smallest index of their component, so walking the points in order meets each
  // component at its root first: the output is ordered by smallest index without sorting.
  const size = new Int32Array(count);
  for (let index = 0; index < count; index += 1) {
    const root = find(index);
    size[root] = (size[root] as number) + 1;
  }
  const clusters: number[][] = [];
  const slot = new Map<number, number[]>();
  for (let index = 0; index < count; index += 1) {
    const root = parent[index] as number;
    if ((size[root] as number) < minSize) continue;
    let members = slot.get(root);
    if (!members) {
      members = [];
      slot.set(root, members);
      clusters.push(members);
    }
    members.push(index);
  }
  return clusters;
}

/** Indices per floor; one group (no copy of the floor map) when everyone is on one floor. */
function byFloor(points: readonly ClusterPoint[]): Array<Int32Array | null> {
  const floor = (points[0] as ClusterPoint).floor;
  if (points.every(point => point.floor === floor)) return [null];
  const groups = new Map<number, number[]>();
  points.forEach((point, index) => {
    const group = groups.get(point.floor);
    if (group) group.push(index);
    else groups.set(point.floor, [index]);
  });
  return [...groups.values()].map(group => Int32Array.from(group));
}

/** Links the points of one floor (`group` null = every point). */
function linkGroup(
  points: readonly ClusterPoint[],
  group: Int32Array | null,
  linkDistanceM: number,
  find: (index: number) => number,
  union: (a: number, b: number) => void,
): void {
  const total = group ? group.length : points.length;
  const at = (position: number): number => (group ? (group[position] as number) : position);
  const cell = linkDistanceM * CELL_FRACTION;
  const limit = linkDistanceM * linkDistanceM;

  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let position = 0; position < total; position += 1) {
    const point = points[at(position)] as ClusterPoint;
    if (point.x < minX) minX = point.x;
    if (point.y < minY) minY = point.y;
    if (point.x > maxX) maxX = point.x;
    if (point.y > maxY) maxY = point.y;
  }
  const columns = Math.floor((maxX - minX) / cell) + 1;
  const rows = Math.floor((maxY - minY) / cell) + 1;
  const dense = columns * rows <= Math.max(1024, DENSE_CELLS_PER_POINT * total);

  // Grid as linked lists: cell → first point, nextInCell[point] → next point of its cell (or -1).
  const nextInCell = new Int32Array(points.length);
  const denseFirst = dense ? new Int32Array(columns * rows).fill(-1) : undefined;
  const sparseFirst = dense ? undefined : new Map<number, number>();
  const firstIn = (column: number, row: number): number => {
    if (column < 0 || row < 0 || column >= columns || row >= rows) return -1;
    const key = row * columns + column;
    return denseFirst ? (denseFirst[key] as number) : (sparseFirst?.get(key) ?? -1);
  };
  const occupied: number[] = [];
  for (let position = 0; position < total; position += 1) {
    const index = at(position);
    const point = points[index] as ClusterPoint;
    const key = Math.floor((point.y - minY) / cell) * columns + Math.floor((point.x - minX) / cell);
    const first = denseFirst ? (denseFirst[key] as number) : (sparseFirst?.get(key) ?? -1);
    if (first < 0) occupied.push(key);
    nextInCell[index] = first;
    if (denseFirst) denseFirst[key] = index;
    else sparseFirst?.set(key, index);
  }

  const linked = (a: number, b: number): boolean => {
    const p = points[a] as ClusterPoint;
    const q = points[b] as ClusterPoint;
    const ex = q.x - p.x;
    const ey = q.y - p.y;
    return ex * ex + ey * ey <= limit;
  };

  for (const key of occupied) {
    const column = key % columns;
    const row = (key - column) / columns;
    const first = firstIn(column, row);
    // Everyone in a cell is within the link distance of everyone else in it.
    for (let other = nextInCell[first] as number; other >= 0; other = nextInCell[other] as number) {
      union(first, other);
    }
    // Indexed, not `for (const [dx, dy] of …)`: destructuring in this loop cost ~2× the tick.
    for (let offset = 0; offset < FORWARD_DX.length; offset += 1) {
      const dx = FORWARD_DX[offset] as number;
      const dy = FORWARD_DY[offset] as number;
      const neighbour = firstIn(column + dx, row + dy);
      if (neighbour < 0 || find(first) === find(neighbour)) continue;
      scan: for (let a = first; a >= 0; a = nextInCell[a] as number) {
        for (let b = neighbour; b >= 0; b = nextInCell[b] as number) {
          if (linked(a, b)) {
            union(a, b);
            break scan; // both cells are single components: one link joins them
          }
        }
      }
    }
  }
}
