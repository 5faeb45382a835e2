import { describe, expect, test } from "vitest";
import { Slots } from "./slots.js";

describe("Slots", () => {
  test("at most `size` holders at once, the rest served first come, first served", async () => {
    const slots = new Slots(2);
    const order: string[] = [];
    const first = await slots.take();
    const second = await slots.take();
    const third = slots.take().then((slot) => (order.push("third"), slot));
    const fourth = slots.take().then((slot) => (order.push("fourth"), slot));
    await Promise.resolve();
    expect(order).toEqual([]);
    first.release();
    first.release(); // Releasing twice frees one slot, not two.
    const thirdSlot = await third;
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(["third"]); // second and third hold both slots: fourth still waits.
    thirdSlot.release();
    await fourth;
    expect(order).toEqual(["third", "fourth"]);
    second.release();
  });

  test("tryTake takes a free slot at once, and none while all are held or someone waits", async () => {
    const slots = new Slots(1);
    const held = slots.tryTake();
    expect(held).toBeDefined();
    expect(slots.tryTake()).toBeUndefined();
    const waiter = slots.take();
    expect(held!.release()).toBe(true); // Released to the waiter...
    expect(held!.release()).toBe(false); // ...once.
    // The freed slot went to the waiter, not back to the pool.
    expect(slots.tryTake()).toBeUndefined();
    expect((await waiter).release()).toBe(false); // Nobody waits: back to the pool.
    expect(slots.tryTake()).toBeDefined();
  });

  test("a freed slot goes to the waiting task of highest priority, ties first come, first served", async () => {
    const slots = new Slots(1);
    const order: string[] = [];
    const holder = await slots.take(5);
    const waiters = [
      ["low", 1],
      ["high", 9],
      ["mid-first", 4],
      ["mid-second", 4],
    ].map(([name, priority]) => slots.take(priority as number).then((slot) => (order.push(name as string), slot)));
    await Promise.resolve();
    expect(order).toEqual([]);
    holder.release();
    for (let i = 0; i < waiters.length; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      expect(order.length).toBe(i + 1); // One slot: one holder at a time.
      (await waiters.find((_, j) => order[i] === ["low", "high", "mid-first", "mid-second"][j])!).release();
    }
    expect(order).toEqual(["high", "mid-first", "mid-second", "low"]);
  });
});
