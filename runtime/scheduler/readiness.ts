import type { ElementEdge, PlanTask } from "../../contract/plan.js";
import { ElementSpace } from "../../contract/elements.js";

/**
 * Element-wise readiness: how many producer elements (or producer-wide
 * events) each consumer element still waits for, per task. Element i of B
 * becomes ready as soon as what it depends on is done; barriers only where
 * the edge is all-to-one. Counts live in typed arrays, so a million
 * elements cost a few megabytes.
 */
export class Readiness {
  /** Per task: units each element still waits for. */
  readonly pending: Int32Array[];
  /** Per producer task: what to do when one of its elements completes. */
  readonly #onElement: ((element: number) => void)[][];
  /** Per producer task: elements completed so far (for `all` edges). */
  readonly #completed: number[];
  readonly #onTaskDone: (() => void)[][];

  constructor(
    tasks: readonly PlanTask[],
    /** Called when an element of task t has nothing left to wait for. */
    private readonly ready: (task: number, element: number) => void,
    /**
     * Whether element `element` of task `task` waits for its dep number `dep`
     * (default: always). A partial run's element that runs none of the steps
     * a dep feeds does not wait for it (its producer may not run at all).
     */
    private readonly waits: (task: number, dep: number, element: number) => boolean = () => true,
  ) {
    const index = new Map(tasks.map((t, i) => [t.id, i]));
    this.pending = tasks.map((t) => new Int32Array(t.space.size));
    this.#onElement = tasks.map(() => []);
    this.#onTaskDone = tasks.map(() => []);
    this.#completed = tasks.map(() => 0);
    const spaces = tasks.map((t) => new ElementSpace(t.space));
    tasks.forEach((consumer, c) => {
      consumer.deps.forEach((dep, d) => {
        const p = index.get(dep.task);
        if (p === undefined) throw new Error(`plan: task ${consumer.id} depends on unknown task ${dep.task}`);
        this.#wire(dep.edge, p, c, tasks, spaces, (j) => this.waits(c, d, j));
      });
    });
  }

  /** Announces the elements that wait for nothing; call once, after construction. */
  start(): void {
    this.pending.forEach((counts, t) => {
      for (let e = 0; e < counts.length; e++) if (counts[e] === 0) this.ready(t, e);
    });
  }

  /** Element `element` of task `task` has completed successfully. */
  complete(task: number, element: number): void {
    for (const f of this.#onElement[task]!) f(element);
    const done = ++this.#completed[task]!;
    if (done === this.pending[task]!.length) for (const f of this.#onTaskDone[task]!) f();
  }

  #decrement(task: number, element: number): void {
    const counts = this.pending[task]!;
    if (--counts[element]! === 0) this.ready(task, element);
  }

  #wire(
    edge: ElementEdge,
    p: number,
    c: number,
    tasks: readonly PlanTask[],
    spaces: readonly ElementSpace[],
    waits: (element: number) => boolean,
  ): void {
    const consumer = this.pending[c]!;
    const producerSize = tasks[p]!.space.size;
    switch (edge.kind) {
      case "one-to-one": {
        for (let j = 0; j < consumer.length && j < producerSize; j++) if (waits(j)) consumer[j]!++;
        this.#onElement[p]!.push((k) => k < consumer.length && waits(k) && this.#decrement(c, k));
        return;
      }
      case "all": {
        if (producerSize === 0) return;
        for (let j = 0; j < consumer.length; j++) if (waits(j)) consumer[j]!++;
        this.#onTaskDone[p]!.push(() => {
          for (let j = 0; j < consumer.length; j++) if (waits(j)) this.#decrement(c, j);
        });
        return;
      }
      case "match": {
        const key = (
          space: ElementSpace,
          i: number,
          vars: readonly string[],
          fixed: Readonly<Record<string, string>>,
        ): string | undefined => {
          for (const [name, value] of Object.entries(fixed)) if (space.value(i, name) !== value) return undefined;
          return vars.map((v) => space.value(i, v) ?? "").join("\u0000");
        };
        const producerVars = edge.on.map(([a]) => a);
        const consumerVars = edge.on.map(([, b]) => b);
        const keyOf: (string | undefined)[] = [];
        const remaining = new Map<string, number>();
        for (let k = 0; k < producerSize; k++) {
          const kk = key(spaces[p]!, k, producerVars, edge.where);
          keyOf.push(kk);
          if (kk !== undefined) remaining.set(kk, (remaining.get(kk) ?? 0) + 1);
        }
        const waiting = new Map<string, number[]>();
        for (let j = 0; j < consumer.length; j++) {
          const kk = key(spaces[c]!, j, consumerVars, edge.when);
          // A consumer element no producer element matches reads a file someone else writes.
          if (kk === undefined || !remaining.has(kk) || !waits(j)) continue;
          consumer[j]!++;
          const list = waiting.get(kk);
          if (list) list.push(j);
          else waiting.set(kk, [j]);
        }
        this.#onElement[p]!.push((k) => {
          const kk = keyOf[k];
          if (kk === undefined) return;
          const left = remaining.get(kk)! - 1;
          remaining.set(kk, left);
          if (left === 0) for (const j of waiting.get(kk) ?? []) this.#decrement(c, j);
        });
        return;
      }
      case "map": {
        const consumersOf: number[][] = Array.from({ length: producerSize }, () => []);
        for (let j = 0; j < consumer.length; j++) {
          if (!waits(j)) continue;
          for (let x = edge.offsets[j]!; x < edge.offsets[j + 1]!; x++) {
            consumer[j]!++;
            consumersOf[edge.indices[x]!]!.push(j);
          }
        }
        this.#onElement[p]!.push((k) => {
          for (const j of consumersOf[k] ?? []) this.#decrement(c, j);
        });
        return;
      }
    }
  }
}
