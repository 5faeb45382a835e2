// V8 settings for rbuild's processes, set before the bundle loads (imported first by the entry points).
import { setFlagsFromString } from "node:v8";

// V8 optimizes a function with TurboFan once it has used up a budget of bytecode executed, tuned for
// pages that run for minutes. rbuild's functions run once per task or per file, and a build of 1,000
// tasks spent 0.5 CPU-s of its ~2.4 compiling them on V8's threads, which share the cores with the
// build's commands. Four times the budget leaves lukewarm functions to Sparkplug: 8-21 % less of rbuild's CPU
// for a cold build of 1,000 tasks in three interleaved A/B runs, no change at 4,000 (bench workspace, 2026-11-22).
setFlagsFromString("--interrupt-budget=270336");
