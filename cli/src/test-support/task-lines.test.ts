import { expect, test } from "vitest";
import { byTask, endOrder } from "./task-lines.js";

test("H.1: byTask puts independent tasks' lines in one order, each task's own lines in theirs, every line kept", () => {
  const one = "> b\n> a\n[b] from b\n✓ b (<t>)\n[a] from a\n✗ a (<t>)\n- c skipped (dependency-failed: a)\n";
  const other = "> a\n[a] from a\n✗ a (<t>)\n- c skipped (dependency-failed: a)\n> b\n[b] from b\n✓ b (<t>)\n";
  const grouped = "> a\n[a] from a\n✗ a (<t>)\n> b\n[b] from b\n✓ b (<t>)\n- c skipped (dependency-failed: a)\n";
  expect([byTask(one), byTask(other)]).toEqual([grouped, grouped]);
  expect(byTask("✓ y (cached, local)\n✓ x (cached, local)\n")).toBe("✓ x (cached, local)\n✓ y (cached, local)\n");
});

test("H.1: byTask moves no task line across a line about no task: the summary stays last, a stage's rule where it was", () => {
  const stderr = "[b] careful\n[a] made\nrbuild: ok: 2 ran, 0 cached in <t>\n";
  expect(byTask(stderr)).toBe("[a] made\n[b] careful\nrbuild: ok: 2 ran, 0 cached in <t>\n");
  const staged = "── stage one ──\n✓ z (<t>)\n✓ y (<t>)\n── stage two ──\n✓ x (<t>)\n";
  expect(byTask(staged)).toBe("── stage one ──\n✓ y (<t>)\n✓ z (<t>)\n── stage two ──\n✓ x (<t>)\n");
  expect(byTask({ exitCode: 0, stdout: "✓ b (<t>)\n✓ a (<t>)\n", stderr })).toEqual({
    exitCode: 0,
    stdout: "✓ a (<t>)\n✓ b (<t>)\n",
    stderr: "[a] made\n[b] careful\nrbuild: ok: 2 ran, 0 cached in <t>\n",
  });
});

test("H.1: endOrder lists the tasks in the order their end or skip lines came", () => {
  expect(endOrder("> a\n✓ a (<t>)\n> b\n✗ b (<t>)\n- c skipped (dependency-failed: b)\n- not a task line\n")).toEqual(["a", "b", "c"]);
});
