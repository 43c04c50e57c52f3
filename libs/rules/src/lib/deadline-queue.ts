/** Something with a deadline. The queue owns both fields while the item is queued. */
export interface DeadlineItem {
  /** When the item is due (ms); meaningful only while queued. */
  dueAt: number;
  /** Position in the queue's heap, or -1 when not queued. */
  queueIndex: number;
}

/**
 * Binary min-heap of items by `dueAt`, each item at most once. Items remember their own heap
 * position, so moving or removing one is O(log n) with no search and no stale entries: the heap
 * never holds more entries than there are queued items. Peek is O(1).
 *
 * Used by the offline rule so that a tick looks only at the devices that are due, instead of
 * scanning 100,000 devices every second.
 */
export class DeadlineQueue<T extends DeadlineItem> {
  private readonly heap: T[] = [];

  get size(): number {
    return this.heap.length;
  }

  /** The item due first, if any. */
  peek(): T | undefined {
    return this.heap[0];
  }

  /** Queues the item at `dueAt`, or moves it there if it is already queued. */
  schedule(item: T, dueAt: number): void {
    if (item.queueIndex < 0) {
      item.dueAt = dueAt;
      item.queueIndex = this.heap.length;
      this.heap.push(item);
      this.siftUp(item.queueIndex);
      return;
    }
    const earlier = dueAt < item.dueAt;
    item.dueAt = dueAt;
    if (earlier) this.siftUp(item.queueIndex);
    else this.siftDown(item.queueIndex);
  }

  /** Removes and returns the item due first. */
  pop(): T | undefined {
    const top = this.heap[0];
    if (top) this.removeAt(0);
    return top;
  }

  /** Takes the item out of the queue; does nothing if it is not queued. */
  remove(item: T): void {
    if (item.queueIndex >= 0) this.removeAt(item.queueIndex);
  }

  private removeAt(index: number): void {
    const removed = this.at(index);
    const last = this.heap.pop() as T;
    removed.queueIndex = -1;
    if (last === removed) return;
    this.heap[index] = last;
    last.queueIndex = index;
    this.siftUp(index);
    this.siftDown(last.queueIndex);
  }

  private siftUp(start: number): void {
    const item = this.at(start);
    let index = start;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = this.at(parentIndex);
      if (parent.dueAt <= item.dueAt) break;
      this.heap[index] = parent;
      parent.queueIndex = index;
      index = parentIndex;
    }
    this.heap[index] = item;
    item.queueIndex = index;
  }

  private siftDown(start: number): void {
    const item = this.at(start);
    const length = this.heap.length;
    let index = start;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length && this.at(right).dueAt < this.at(left).dueAt) child = right;
      const smallest = this.at(child);
      if (smallest.dueAt >= item.dueAt) break;
      this.heap[index] = smallest;
      smallest.queueIndex = index;
      index = child;
    }
    this.heap[index] = item;
    item.queueIndex = index;
  }

  /** Indexed access for positions the heap invariant guarantees exist. */
  private at(index: number): T {
    return this.heap[index] as T;
  }
}
