import type { ElementEdge, PlanTask } from "../../contract/plan.js";
import type { RunElements, TaskElements } from "./elements.js";

/**
 * Element-wise readiness: how many producer elements (or producer-wide
 * events) each consumer element still waits for, per task. Element i of B
 * becomes ready as soon as what it depends on is done; barriers only where
 * the edge is all-to-one. Counts live in typed arrays, so a million
 * elements cost a few megabytes.
 *
 * A dynamic task (issue 14) gains elements while the run goes (`grow`,
 * after RunElements expanded a block): each new element counts what it
 * waits for at that moment. A consumer of a dynamic task also waits for
 * the blocks that have not expanded yet, since they may add elements it
 * must wait for: by its key when the key is made of the producer's static
 * variables (a block's key is known before it expands), else until every
 * block has expanded.
 */
export class Readiness {
  /** Per task: units each element still waits for (a dynamic task's array has room to grow: `elements.of(t).size` are in use). */
  readonly pending: Int32Array[];
  /** Per producer task: what to do when one of its elements completes. */
  readonly #onElement: ((element: number) => void)[][];
  /** Per producer task: what to do when one of its dynamic blocks expands into `[first, end)`. */
  readonly #onBlock: ((block: number, first: number, end: number) => void)[][];
  /** Per dynamic consumer task: how each dep counts a new element. */
  readonly #onGrow: ((element: number) => void)[][];
  /** Per producer task: elements completed so far (for `all` edges). */
  readonly #completed: number[];
  readonly #onTaskDone: (() => void)[][];
  readonly #taskDone: boolean[];
  /** Per dynamic task: which elements completed (a one-to-one consumer appended later asks). */
  readonly #doneBits: (Uint8Array | undefined)[];

  constructor(
    readonly tasks: readonly PlanTask[],
    readonly elements: RunElements,
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
    this.pending = tasks.map((_, t) => new Int32Array(this.#dynamic(t) ? 16 : elements.of(t).size));
    this.#onElement = tasks.map(() => []);
    this.#onBlock = tasks.map(() => []);
    this.#onGrow = tasks.map(() => []);
    this.#onTaskDone = tasks.map(() => []);
    this.#completed = tasks.map(() => 0);
    this.#taskDone = tasks.map(() => false);
    this.#doneBits = tasks.map((_, t) => (this.#dynamic(t) ? new Uint8Array(16) : undefined));
    tasks.forEach((consumer, c) => {
      consumer.deps.forEach((dep, d) => {
        const p = index.get(dep.task);
        if (p === undefined) throw new Error(`plan: task ${consumer.id} depends on unknown task ${dep.task}`);
        this.#wire(dep.edge, p, c, (j) => this.waits(c, d, j));
      });
    });
  }

  /** Announces the elements that wait for nothing; call once, after construction. */
  start(): void {
    this.pending.forEach((counts, t) => {
      const size = this.elements.of(t).size;
      for (let e = 0; e < size; e++) if (counts[e] === 0) this.ready(t, e);
    });
    this.tasks.forEach((_, t) => this.#checkDone(t));
  }

  /** Element `element` of task `task` has completed successfully. */
  complete(task: number, element: number): void {
    const bits = this.#doneBits[task];
    if (bits !== undefined) bits[element] = 1;
    for (const f of this.#onElement[task]!) f(element);
    this.#completed[task]!++;
    this.#checkDone(task);
  }

  /**
   * Dynamic task `task`'s block `block` expanded into elements `[first,
   * end)` (RunElements.expand, already done): they count what they wait
   * for, the ones that wait for nothing are announced, and consumers
   * waiting on the block learn how many elements it has.
   */
  grow(task: number, block: number, first: number, end: number): void {
    let counts = this.pending[task]!;
    if (end > counts.length) {
      const bigger = new Int32Array(Math.max(end, counts.length * 2));
      bigger.set(counts);
      this.pending[task] = counts = bigger;
      const bits = new Uint8Array(bigger.length);
      bits.set(this.#doneBits[task]!);
      this.#doneBits[task] = bits;
    }
    for (let j = first; j < end; j++) for (const f of this.#onGrow[task]!) f(j);
    for (const f of this.#onBlock[task]!) f(block, first, end);
    for (let j = first; j < end; j++) if (counts[j] === 0) this.ready(task, j);
    this.#checkDone(task);
  }

  #dynamic(t: number): boolean {
    return this.tasks[t]!.space.dynamic !== undefined;
  }

  /** Whether every element a task will ever have has completed: its `all` consumers go on. */
  #checkDone(task: number): void {
    if (this.#taskDone[task]) return;
    const dyn = this.elements.dynamic(task);
    if (dyn !== undefined && dyn.unexpanded > 0) return;
    if (this.#completed[task]! < this.elements.of(task).size) return;
    this.#taskDone[task] = true;
    for (const f of this.#onTaskDone[task]!) f();
  }

  #decrement(task: number, element: number): void {
    const counts = this.pending[task]!;
    if (--counts[element]! === 0) this.ready(task, element);
  }

  /**
   * Wires one dep: the consumer's elements count what they wait for now
   * (a static consumer) or as they come (a dynamic one), and the
   * producer's events count them down.
   */
  #wire(edge: ElementEdge, p: number, c: number, waits: (element: number) => boolean): void {
    const cs = this.elements.of(c);
    const ps = this.elements.of(p);
    const dynamicConsumer = this.#dynamic(c);
    /** Counts element j as waiting (once), now or as it comes. */
    const each = (count: (j: number) => void) => {
      if (dynamicConsumer) this.#onGrow[c]!.push((j) => waits(j) && count(j));
      else for (let j = 0; j < cs.size; j++) if (waits(j)) count(j);
    };
    switch (edge.kind) {
      case "expand":
        // The element exists only once its producer element has ended: nothing left to wait for.
        return;
      case "one-to-one": {
        // Equal spaces: a dynamic pair's blocks expand in the same event, numbered alike.
        each((j) => {
          if (j >= ps.size && !this.#dynamic(p)) return;
          if (this.#doneBits[p]?.[j] === 1) return;
          this.pending[c]![j]!++;
        });
        this.#onElement[p]!.push((k) => k < cs.size && waits(k) && this.#decrement(c, k));
        return;
      }
      case "all": {
        const waiting: number[] = [];
        each((j) => {
          if (this.#taskDone[p] || (!this.#dynamic(p) && ps.size === 0)) return;
          this.pending[c]![j]!++;
          waiting.push(j);
        });
        this.#onTaskDone[p]!.push(() => {
          for (const j of waiting.splice(0)) this.#decrement(c, j);
        });
        return;
      }
      case "match":
        return this.#wireMatch(edge, p, c, cs, ps, each);
      case "map": {
        if (dynamicConsumer || this.#dynamic(p)) throw new Error(`plan: a \`map\` edge between ${this.tasks[p]!.id} and a dynamic task`);
        const consumersOf: number[][] = Array.from({ length: ps.size }, () => []);
        each((j) => {
          for (let x = edge.offsets[j]!; x < edge.offsets[j + 1]!; x++) {
            this.pending[c]![j]!++;
            consumersOf[edge.indices[x]!]!.push(j);
          }
        });
        this.#onElement[p]!.push((k) => {
          for (const j of consumersOf[k] ?? []) this.#decrement(c, j);
        });
        return;
      }
    }
  }

  #wireMatch(
    edge: Extract<ElementEdge, { kind: "match" }>,
    p: number,
    c: number,
    cs: TaskElements,
    ps: TaskElements,
    each: (count: (j: number) => void) => void,
  ): void {
    const key = (space: TaskElements, i: number, vars: readonly string[], fixed: Readonly<Record<string, string>>): string | undefined => {
      for (const [name, value] of Object.entries(fixed)) if (space.value(i, name) !== value) return undefined;
      return vars.map((v) => space.value(i, v) ?? "").join("\u0000");
    };
    const producerVars = edge.on.map(([a]) => a);
    const consumerVars = edge.on.map(([, b]) => b);
    /** Per key: producer elements (and, for a dynamic producer, unexpanded blocks) not done yet. */
    const remaining = new Map<string, number>();
    const waiting = new Map<string, number[]>();
    const release = (kk: string) => {
      const list = waiting.get(kk);
      if (list === undefined) return;
      waiting.delete(kk);
      for (const j of list) this.#decrement(c, j);
    };
    const lessen = (kk: string, by: number) => {
      const left = remaining.get(kk)! - by;
      remaining.set(kk, left);
      if (left === 0) release(kk);
    };
    const dyn = this.elements.dynamic(p);
    const staticVars = new Set(this.tasks[p]!.space.vars.map((v) => v.name));
    // A block's key is known before it expands when the key (and `where`) name only the producer's static variables.
    const blockKeyed = dyn !== undefined && [...producerVars, ...Object.keys(edge.where)].every((v) => staticVars.has(v));
    /** Consumer elements that wait for every block of a dynamic producer to expand (its key has a decided variable). */
    const afterExpansion: number[] = [];
    if (dyn === undefined) {
      for (let k = 0; k < ps.size; k++) {
        const kk = key(ps, k, producerVars, edge.where);
        if (kk !== undefined) remaining.set(kk, (remaining.get(kk) ?? 0) + 1);
      }
    } else if (blockKeyed) {
      for (let b = 0; b < dyn.blocks.size; b++) {
        if (dyn.expanded[b]) continue;
        const kk = blockKey(b);
        if (kk !== undefined) remaining.set(kk, (remaining.get(kk) ?? 0) + 1);
      }
    }
    function blockKey(b: number): string | undefined {
      for (const [name, value] of Object.entries(edge.where)) if (dyn!.blocks.value(b, name) !== value) return undefined;
      return producerVars.map((v) => dyn!.blocks.value(b, v) ?? "").join("\u0000");
    }
    const count = (j: number, kk: string) => {
      // A consumer element no producer element matches reads a file someone else writes.
      if (!((remaining.get(kk) ?? 0) > 0)) return false;
      this.pending[c]![j]!++;
      const list = waiting.get(kk);
      if (list) list.push(j);
      else waiting.set(kk, [j]);
      return true;
    };
    each((j) => {
      const kk = key(cs, j, consumerVars, edge.when);
      if (kk === undefined) return;
      if (dyn !== undefined && !blockKeyed && dyn.unexpanded > 0) {
        this.pending[c]![j]!++;
        afterExpansion.push(j);
        return;
      }
      count(j, kk);
    });
    this.#onElement[p]!.push((k) => {
      const kk = key(ps, k, producerVars, edge.where);
      if (kk !== undefined && remaining.has(kk)) lessen(kk, 1);
    });
    if (dyn === undefined) return;
    this.#onBlock[p]!.push((b, first, end) => {
      if (blockKeyed) {
        const kk = blockKey(b);
        if (kk === undefined) return;
        // The block stands for its elements now: one token becomes end - first.
        remaining.set(kk, (remaining.get(kk) ?? 0) + (end - first));
        lessen(kk, 1);
        return;
      }
      for (let k = first; k < end; k++) {
        const kk = key(ps, k, producerVars, edge.where);
        if (kk !== undefined) remaining.set(kk, (remaining.get(kk) ?? 0) + 1);
      }
      if (dyn.unexpanded > 0) return;
      // Every block has expanded: each waiting consumer element now waits for its key's elements, if any are left.
      for (const j of afterExpansion.splice(0)) {
        const kk = key(cs, j, consumerVars, edge.when)!;
        count(j, kk);
        this.#decrement(c, j);
      }
    });
  }
}
