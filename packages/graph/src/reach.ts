/**
 * Which planned tasks each task depends on, directly or through others: one
 * bit set per task, built in topological order (a task's set is its deps and
 * their sets). 10,000 tasks take 12.5 MB and a few milliseconds.
 */
import type { TaskFacts } from "./input.js";

export class Reach {
  readonly #index = new Map<string, number>();
  readonly #words: number;
  readonly #bits: Uint32Array;
  readonly #tasks: readonly TaskFacts[];

  /** `tasks` in topological order, as GraphAnalysisInput.tasks. */
  constructor(tasks: readonly TaskFacts[]) {
    this.#tasks = tasks;
    tasks.forEach((task, i) => this.#index.set(task.name, i));
    this.#words = (tasks.length + 31) >>> 5;
    this.#bits = new Uint32Array(this.#words * tasks.length);
    tasks.forEach((task, i) => {
      const own = i * this.#words;
      for (const dep of task.deps) {
        const d = this.#index.get(dep);
        if (d === undefined) continue;
        this.#bits[own + (d >>> 5)]! |= 1 << (d & 31);
        const from = d * this.#words;
        for (let w = 0; w < this.#words; w++) this.#bits[own + w]! |= this.#bits[from + w]!;
      }
    });
  }

  /** Whether `task` depends on `dep`, directly or through other tasks. */
  dependsOn(task: string, dep: string): boolean {
    const t = this.#index.get(task);
    const d = this.#index.get(dep);
    if (t === undefined || d === undefined) return false;
    return (this.#bits[t * this.#words + (d >>> 5)]! & (1 << (d & 31))) !== 0;
  }

  /** The tasks that depend on `dep`, directly or not, in topological order. */
  dependentsOf(dep: string): string[] {
    const d = this.#index.get(dep);
    if (d === undefined) return [];
    const found: string[] = [];
    for (let t = d + 1; t < this.#tasks.length; t++) {
      if ((this.#bits[t * this.#words + (d >>> 5)]! & (1 << (d & 31))) !== 0) found.push(this.#tasks[t]!.name);
    }
    return found;
  }

  /** A chain of deps from `task` down to `dep` (both included), or undefined when it has none. */
  chain(task: string, dep: string): string[] | undefined {
    if (task === dep) return [task];
    const facts = this.#tasks[this.#index.get(task) ?? -1];
    if (facts === undefined) return undefined;
    for (const next of facts.deps) {
      if (next === dep || this.dependsOn(next, dep)) return [task, ...this.chain(next, dep)!];
    }
    return undefined;
  }
}
