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

  test("a started command's slot is promised to a queueable waiter, which holds it from then on", async () => {
    const slots = new Slots<string>(1);
    const running = slots.tryTake()!;
    expect(running.after).toBeUndefined();
    const follower = slots.take(0, true);
    running.started("cmd-1");
    const next = await follower;
    expect(next.after).toBe("cmd-1"); // To start when cmd-1 ends.
    expect(running.release()).toBe(false); // Handed over: cmd-1's end frees nothing...
    expect(slots.tryTake()).toBeUndefined(); // ...the follower holds the slot.
    next.started("cmd-2");
    expect(next.release()).toBe(false);
    expect(slots.tryTake()).toBeDefined();
  });

  test("a queueable task arriving later queues behind a started command at once", async () => {
    const slots = new Slots<string>(1);
    const running = slots.tryTake()!;
    running.started("cmd-1");
    const next = await slots.take(0, true);
    expect(next.after).toBe("cmd-1");
    // A task that cannot queue waits for a real release.
    let plainTook = false;
    const plain = slots.take(0, false).then((slot) => ((plainTook = true), slot));
    expect(running.release()).toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(plainTook).toBe(false);
    next.started("cmd-2");
    expect(next.release()).toBe(true);
    expect((await plain).after).toBeUndefined();
  });

  test("a waiter that cannot queue is not jumped by a queueable one of lower priority", async () => {
    const slots = new Slots<string>(1);
    const running = slots.tryTake()!;
    running.started("cmd-1");
    const order: string[] = [];
    const plain = slots.take(9, false).then((slot) => (order.push("plain"), slot));
    const queueable = slots.take(1, true).then((slot) => (order.push("queueable"), slot));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([]); // The plain one waits for cmd-1's end, and the queueable one behind it.
    expect(running.release()).toBe(true);
    const plainSlot = await plain;
    expect(plainSlot.after).toBeUndefined();
    plainSlot.started("cmd-2");
    expect((await queueable).after).toBe("cmd-2");
  });

  test("a follower that gives its slot back without starting returns it to the command it was queued behind", async () => {
    const slots = new Slots<string>(1);
    const running = slots.tryTake()!;
    running.started("cmd-1");
    const follower = await slots.take(0, true);
    expect(follower.after).toBe("cmd-1");
    expect(follower.release()).toBe(false); // Never started (e.g. its directory is missing)...
    expect(slots.tryTake()).toBeUndefined(); // ...and cmd-1 still runs: nothing is free.
    const again = await slots.take(0, true); // cmd-1 takes a follower again.
    expect(again.after).toBe("cmd-1");
    again.release();
    expect(running.release()).toBe(false);
    expect(slots.tryTake()).toBeDefined(); // Free once cmd-1 has ended.
  });

  test("a follower that gives its slot back after the command before it ended frees it", async () => {
    const slots = new Slots<string>(1);
    const running = slots.tryTake()!;
    running.started("cmd-1");
    const follower = await slots.take(0, true);
    expect(running.release()).toBe(false);
    const waiter = slots.take(0, false);
    expect(follower.release()).toBe(true);
    expect((await waiter).after).toBeUndefined();
  });

  test("a follower still waiting moves to a slot freed first; the command it waited behind takes another", async () => {
    const slots = new Slots<string>(2);
    const long = slots.tryTake()!;
    long.started("long");
    const short = slots.tryTake()!;
    const follower = await slots.take(5, true); // Behind `long`, the only started command.
    expect(follower.after).toBe("long");
    expect(long.moved).toBeUndefined(); // Only a follower can be moved.
    short.started("short");
    const next = await slots.take(1, true); // Behind `short`.
    expect(next.after).toBe("short");
    // `short` ends before `long`: its follower starts in its slot, and nothing moves.
    expect(short.release()).toBe(false);
    expect(follower.moved?.aborted).toBe(false);
    next.started("next");
    // `next` ends too: a slot is free while `follower` still waits behind `long`. It moves.
    expect(next.release()).toBe(true);
    expect(follower.moved?.aborted).toBe(true);
    follower.started("follower");
    // `long` can take a follower again.
    const again = await slots.take(0, true);
    expect(again.after).toBe("long");
    expect(slots.tryTake()).toBeUndefined();
  });

  test("a freed slot goes to a waiting task that outranks the follower waiting behind a running command", async () => {
    const slots = new Slots<string>(2);
    const long = slots.tryTake()!;
    long.started("long");
    const other = slots.tryTake()!;
    const follower = await slots.take(1, true);
    const plain = slots.take(9, false);
    expect(other.release()).toBe(true);
    expect(follower.moved?.aborted).toBe(false);
    expect((await plain).after).toBeUndefined();
  });
});
