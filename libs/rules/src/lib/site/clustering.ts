/** A person's position for crowd detection: metres in the site frame, and the floor. */
export interface ClusterPoint {
  readonly x: number;
  readonly y: number;
  readonly floor: number;
}

/**
 * Relative tolerance on "within the radius": a person exactly on the circle counts (the guide's
 * "radius ≤ 15 m"), and floating-point rounding of the circle's centre never drops them.
 */
const EPSILON = 1e-9;

/**
 * Crowds as the MEM crowding guide (2023) defines them: **at least `minSize` people inside one
 * circle of radius `radiusM`** (人员聚集: people gathered within a radius of 15 m, domain-standards
 * §5, V), on one floor. Not single linkage: a chain of people 14 m apart is not a crowd however
 * long it is, and three people 26 m apart on the rim of a 15 m circle are one.
 *
 * Returns crowds as ascending indices into `points`, one circle each, ordered by the person the
 * circle was found from. A person may be in two crowds (overlapping circles).
 *
 * Exact for "is there a crowd": a circle holding a set S can be moved until a member of S lies on
 * its rim while still holding S (shrink it about its centre to the farthest member, then grow it
 * back about that member). So for each person p in index order who is not yet in a found crowd,
 * the fullest circle with p at its centre, else with p on its rim, is found (an angular sweep over
 * the neighbours within 2 × radius, O(k log k)); if it holds `minSize`, it is a crowd, with
 * everyone inside it. A crowd exists if and only if some person is found in one (property-tested
 * against brute force over every candidate centre). Listed members are in a real circle; a
 * person can be inside a crowd's circle without being listed only if no circle with them at the
 * centre or on the rim holds `minSize` and no found circle covers them.
 *
 * Cost: a grid of 2 × radius cells; a person with fewer than `minSize − 1` others within
 * 2 × radius is skipped after a count, people inside a found crowd are not searched from again,
 * so a dense crowd costs a few circles, not one per person. The worst case is a dense gathering
 * that never reaches `minSize` in one circle: a sweep per person, O(n · k log k) with k the people
 * within 2 × radius (README "Cost").
 */
export function crowdsWithinRadius(
  points: readonly ClusterPoint[],
  radiusM: number,
  minSize = 1,
): number[][] {
  if (!(radiusM > 0) || !Number.isFinite(radiusM))
    throw new RangeError(`radiusM must be a positive number, got ${radiusM}`);
  const count = points.length;
  if (count === 0 || count < minSize) return [];
  // A hair wider than 2 × radius: two people ≤ 2 × radius apart are then in neighbouring cells
  // even when rounding x / cell lands one of them just across a cell border.
  const cell = 2 * radiusM * (1 + 1e-6);
  const grid = new Map<string, number[]>();
  const keyOf = (floor: number, column: number, row: number) => `${floor}:${column}:${row}`;
  for (let index = 0; index < count; index += 1) {
    const point = points[index] as ClusterPoint;
    const key = keyOf(point.floor, Math.floor(point.x / cell), Math.floor(point.y / cell));
    const list = grid.get(key);
    if (list) list.push(index);
    else grid.set(key, [index]);
  }
  // Exactly 2 × radius: farther, no circle holds both (a tolerance here would let the rim circle
  // from p miss q by twice the tolerance).
  const reach = 4 * radiusM * radiusM;
  const inside = (radiusM * (1 + EPSILON)) ** 2;
  /** Others on p's floor within 2 × radius (the only people a circle holding p can hold). */
  const neighbours = (index: number): number[] => {
    const p = points[index] as ClusterPoint;
    const column = Math.floor(p.x / cell);
    const row = Math.floor(p.y / cell);
    const found: number[] = [];
    for (let dx = -1; dx <= 1; dx += 1) {
      for (let dy = -1; dy <= 1; dy += 1) {
        for (const other of grid.get(keyOf(p.floor, column + dx, row + dy)) ?? []) {
          if (other === index) continue;
          const q = points[other] as ClusterPoint;
          const dx = q.x - p.x;
          const dy = q.y - p.y;
          if (dx * dx + dy * dy <= reach) found.push(other);
        }
      }
    }
    return found;
  };
  const holding = (cx: number, cy: number, anchor: number, near: readonly number[]): number[] => {
    const members = [anchor];
    for (const other of near) {
      const q = points[other] as ClusterPoint;
      const dx = q.x - cx;
      const dy = q.y - cy;
      if (dx * dx + dy * dy <= inside) members.push(other);
    }
    return members;
  };

  const covered = new Uint8Array(count);
  const crowds: number[][] = [];
  for (let index = 0; index < count; index += 1) {
    if (covered[index]) continue;
    const near = neighbours(index);
    if (near.length + 1 < minSize) continue;
    const p = points[index] as ClusterPoint;
    let members = holding(p.x, p.y, index, near);
    if (members.length < minSize) {
      const angle = fullestRimAngle(points, p, near, radiusM);
      members = holding(
        p.x + radiusM * Math.cos(angle),
        p.y + radiusM * Math.sin(angle),
        index,
        near,
      );
    }
    if (members.length < minSize) continue;
    members.sort((a, b) => a - b);
    for (const member of members) covered[member] = 1;
    crowds.push(members);
  }
  return crowds;
}

/**
 * The direction from p of the centre of the fullest circle of radius r with p on its rim: a
 * neighbour q at distance d is inside for centre directions θ ± acos(d / 2r) (θ = direction of
 * q), so the fullest circle is where most of these arcs overlap. Arcs are swept twice round
 * (0–4π) so that arcs across 0 are counted; starts sort before ends at one angle (closed arcs:
 * the rim counts).
 */
function fullestRimAngle(
  points: readonly ClusterPoint[],
  p: ClusterPoint,
  near: readonly number[],
  radiusM: number,
): number {
  const TWO_PI = 2 * Math.PI;
  // Arc starts and ends, each also one turn later; sorted numerically (typed arrays, no objects).
  const starts = new Float64Array(2 * near.length);
  const ends = new Float64Array(2 * near.length);
  let arcs = 0;
  for (const other of near) {
    const q = points[other] as ClusterPoint;
    const dx = q.x - p.x;
    const dy = q.y - p.y;
    const d = Math.sqrt(dx * dx + dy * dy);
    if (d === 0) continue; // at p: inside every circle with p on its rim
    const half = Math.acos(Math.min(1, d / (2 * radiusM)));
    let start = (Math.atan2(dy, dx) - half) % TWO_PI;
    if (start < 0) start += TWO_PI;
    starts[2 * arcs] = start;
    starts[2 * arcs + 1] = start + TWO_PI;
    ends[2 * arcs] = start + 2 * half;
    ends[2 * arcs + 1] = start + 2 * half + TWO_PI;
    arcs += 1;
  }
  const startList = starts.subarray(0, 2 * arcs).sort();
  const endList = ends.subarray(0, 2 * arcs).sort();
  let depth = 0;
  let best = -1;
  let bestAngle = 0;
  // Merge: at one angle a start goes before an end (closed arcs: the rim counts).
  for (let s = 0, e = 0; s < startList.length;) {
    if ((startList[s] as number) <= (endList[e] as number)) {
      depth += 1;
      if (depth > best) {
        best = depth;
        bestAngle = startList[s] as number;
      }
      s += 1;
    } else {
      depth -= 1;
      e += 1;
    }
  }
  return bestAngle;
}
