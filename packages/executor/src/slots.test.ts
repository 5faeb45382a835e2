import { describe, expect, test } from "vitest";
import { Slots } from "./slots.js";

describe("Slots", () => {
  test("at most `size` holders at once, the rest served first come, first served", async () => {
    const slots = new Slots(2);
    const order: string[] = [];
    const first = await slots.take();
    const second = await slots.take();
    const third = slots.take().then((release) => (order.push("third"), release));
    const fourth = slots.take().then((release) => (order.push("fourth"), release));
    await Promise.resolve();
    expect(order).toEqual([]);
    first();
    first(); // Releasing twice frees one slot, not two.
    const releaseThird = await third;
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(["third"]); // second and third hold both slots: fourth still waits.
    releaseThird();
    await fourth;
    expect(order).toEqual(["third", "fourth"]);
    second();
  });
});
