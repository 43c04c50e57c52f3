import fc from 'fast-check';

import { type DeadlineItem, DeadlineQueue } from './deadline-queue';

interface Item extends DeadlineItem {
  readonly id: number;
}

const item = (id: number): Item => ({ id, dueAt: 0, queueIndex: -1 });

describe(DeadlineQueue.name, () => {
  it('pops items in deadline order', () => {
    const queue = new DeadlineQueue<Item>();
    const items = [item(0), item(1), item(2), item(3)];
    [30, 10, 40, 20].forEach((dueAt, index) => queue.schedule(items[index] as Item, dueAt));
    expect(queue.peek()?.id).toBe(1);
    expect(
      [queue.pop(), queue.pop(), queue.pop(), queue.pop(), queue.pop()].map(i => i?.id),
    ).toEqual([1, 3, 0, 2, undefined]);
  });

  it('moves an item that is scheduled again instead of queueing it twice', () => {
    const queue = new DeadlineQueue<Item>();
    const [a, b] = [item(0), item(1)];
    queue.schedule(a, 10);
    queue.schedule(b, 20);
    queue.schedule(a, 30);
    expect(queue.size).toBe(2);
    expect(queue.pop()).toBe(b);
    queue.schedule(a, 5);
    expect(queue.pop()).toBe(a);
    expect(a.queueIndex).toBe(-1);
  });

  it('removes an item from anywhere and ignores one that is not queued', () => {
    const queue = new DeadlineQueue<Item>();
    const items = [item(0), item(1), item(2)];
    items.forEach((each, index) => queue.schedule(each, index));
    queue.remove(items[1] as Item);
    queue.remove(items[1] as Item);
    expect(queue.size).toBe(2);
    expect([queue.pop()?.id, queue.pop()?.id]).toEqual([0, 2]);
  });

  it('behaves like a sorted list under any mix of schedule, remove and pop', () => {
    const operation = fc.oneof(
      fc.record({
        op: fc.constant('schedule' as const),
        id: fc.nat(19),
        dueAt: fc.integer({ min: 0, max: 50 }),
      }),
      fc.record({ op: fc.constant('remove' as const), id: fc.nat(19) }),
      fc.record({ op: fc.constant('pop' as const) }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 300 }), operations => {
        const queue = new DeadlineQueue<Item>();
        const items = Array.from({ length: 20 }, (_, id) => item(id));
        const model = new Map<number, number>();
        for (const operation of operations) {
          if (operation.op === 'schedule') {
            queue.schedule(items[operation.id] as Item, operation.dueAt);
            model.set(operation.id, operation.dueAt);
          } else if (operation.op === 'remove') {
            queue.remove(items[operation.id] as Item);
            model.delete(operation.id);
          } else {
            const popped = queue.pop();
            const earliest = Math.min(...model.values());
            if (model.size === 0) {
              expect(popped).toBeUndefined();
            } else {
              expect(popped?.dueAt).toBe(earliest);
              model.delete(popped?.id ?? -1);
            }
          }
          expect(queue.size).toBe(model.size);
          for (const each of items) expect(each.queueIndex >= 0).toBe(model.has(each.id));
        }
      }),
    );
  });
});
