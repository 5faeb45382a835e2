import { expect, test } from "vitest";
import { ClientInput, requestSize } from "./client-input.js";

test("24.1: the client's interrupts and resizes are read however their bytes are split; anything else is ignored", () => {
  const input = new ClientInput();
  expect(input.feed(Buffer.from("IW120,4"))).toEqual([{ type: "interrupt" }]);
  expect(input.feed(Buffer.from("0;xW80,24;W,;I"))).toEqual([
    { type: "resize", columns: 120, rows: 40 },
    { type: "resize", columns: 80, rows: 24 },
    { type: "interrupt" },
  ]);
  // A resize that never ends is dropped, and what follows it is read again.
  expect(input.feed(Buffer.from(`W${"9".repeat(40)}I`))).toEqual([{ type: "interrupt" }]);
});

test("24.1: the request's terminal field gives the client's size when it has one", () => {
  expect([requestSize("1 100x30"), requestSize("1"), requestSize("0"), requestSize("1 x")]).toEqual([{ columns: 100, rows: 30 }, undefined, undefined, undefined]);
});
