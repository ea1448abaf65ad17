import { ElementSpace, type Binding } from "../../contract/elements.js";
import { ElementIdentities, encodeValue } from "../../contract/identity.js";
import type { DynamicSpace, Plan, PlanTask } from "../../contract/plan.js";

/**
 * A run's elements, per task: the plan's index space for a static task;
 * for a dynamic one (issue 14, `IndexSpace.dynamic`), the elements its
 * blocks have expanded into so far, numbered in the order they came. Every
 * part of the runtime that turns an element number into values (commands,
 * identities, readiness) asks here, so a dynamic element is one like any other.
 */
export interface TaskElements {
  /** Elements so far (a static task: all of them). */
  readonly size: number;
  bindings(i: number): Map<string, Binding>;
  /** The text of `var` or `var.field` for element `i`. */
  value(i: number, key: string): string | undefined;
  /** Element `i`'s identity (contract/identity.ts). */
  identity(i: number): string;
}

/** A static task's elements: its plan space. */
class StaticElements implements TaskElements {
  readonly #space: ElementSpace;
  readonly #task: PlanTask;
  #identities: ElementIdentities | undefined;

  constructor(task: PlanTask) {
    this.#task = task;
    this.#space = new ElementSpace(task.space);
  }

  get size(): number {
    return this.#space.size;
  }

  bindings(i: number): Map<string, Binding> {
    return this.#space.bindings(i);
  }

  value(i: number, key: string): string | undefined {
    return this.#space.value(i, key);
  }

  identity(i: number): string {
    return (this.#identities ??= new ElementIdentities(this.#task.space)).of(i);
  }
}

/**
 * A dynamic task's elements: each block (an element of its static
 * variables) becomes one element per row its producer element decided,
 * appended when that producer element ends. A block expands once.
 */
export class DynamicElements implements TaskElements {
  readonly dynamic: DynamicSpace;
  /** The static part: its elements are the blocks. */
  readonly blocks: ElementSpace;
  readonly #blockIds: ElementIdentities;
  /** Per element: its block and its row of decided values. */
  #blockOf: number[] = [];
  #rows: (readonly string[])[] = [];
  /** Per block: whether it has expanded (with 0 or more rows). */
  readonly expanded: Uint8Array;
  #unexpanded: number;

  constructor(task: PlanTask) {
    this.dynamic = task.space.dynamic!;
    this.blocks = new ElementSpace(task.space);
    this.#blockIds = new ElementIdentities(task.space);
    this.expanded = new Uint8Array(task.space.size);
    this.#unexpanded = task.space.size;
  }

  get size(): number {
    return this.#rows.length;
  }

  /** Blocks not expanded yet: while any is, more elements may come. */
  get unexpanded(): number {
    return this.#unexpanded;
  }

  blockOf(i: number): number {
    return this.#blockOf[i]!;
  }

  row(i: number): readonly string[] {
    return this.#rows[i]!;
  }

  bindings(i: number): Map<string, Binding> {
    const out = this.blocks.bindings(this.#blockOf[i]!);
    const row = this.#rows[i]!;
    this.dynamic.vars.forEach((name, k) => out.set(name, { value: row[k]! }));
    return out;
  }

  value(i: number, key: string): string | undefined {
    const k = this.dynamic.vars.indexOf(key);
    if (k !== -1) return this.#rows[i]![k];
    return this.blocks.value(this.#blockOf[i]!, key);
  }

  identity(i: number): string {
    const block = this.#blockIds.of(this.#blockOf[i]!);
    const row = this.#rows[i]!;
    const own = this.dynamic.vars.map((name, k) => `${name}=${encodeValue(row[k]!)}`).join(",");
    return block === "" ? own : `${block},${own}`;
  }

  /**
   * Block `block` will not expand in this run: a partial run leaves all of
   * it out, so nothing waits for its elements and its producer's end adds
   * none (Scheduler.expand passes it over).
   */
  leaveOut(block: number): void {
    if (this.expanded[block]) return;
    this.expanded[block] = 1;
    this.#unexpanded--;
  }

  /** Block `block` expands into `rows`; returns its elements' numbers `[first, end)`. */
  expand(block: number, rows: readonly (readonly string[])[]): { first: number; end: number } {
    if (this.expanded[block]) throw new Error(`block ${block} expanded twice`);
    this.expanded[block] = 1;
    this.#unexpanded--;
    const first = this.#rows.length;
    for (const row of rows) {
      this.#blockOf.push(block);
      this.#rows.push(row);
    }
    return { first, end: this.#rows.length };
  }
}

/** Where a dynamic task's blocks come from: a producer element, by the values of `per`. */
export interface Expansion {
  /** The dynamic task. */
  readonly task: number;
  /** Its blocks for this producer element. */
  readonly blocks: readonly number[];
}

/** Every task's elements, and which dynamic blocks each producer element expands. */
export class RunElements {
  readonly #tasks: TaskElements[];
  /** Per producer task: per producer element key (`per` values), the dynamic tasks' blocks it expands. */
  readonly #blocksOf = new Map<
    number,
    { readonly dynamic: number; readonly per: readonly string[]; readonly blocks: Map<string, number[]> }[]
  >();
  readonly #index: Map<string, number>;
  /** Per producer task and step: each ended element's decided rows. */
  readonly #decided = new Map<string, Map<number, readonly (readonly string[])[]>>();

  constructor(readonly plan: Plan) {
    this.#index = new Map(plan.tasks.map((t, i) => [t.id, i]));
    this.#tasks = plan.tasks.map((t) => (t.space.dynamic === undefined ? new StaticElements(t) : new DynamicElements(t)));
    plan.tasks.forEach((t, d) => {
      const dyn = t.space.dynamic;
      if (dyn === undefined) return;
      const p = this.#index.get(dyn.from.task);
      if (p === undefined) throw new Error(`plan: task ${t.id} expands from unknown task ${dyn.from.task}`);
      const elements = this.#tasks[d] as DynamicElements;
      const blocks = new Map<string, number[]>();
      for (let b = 0; b < t.space.size; b++) {
        const key = dyn.per.map((v) => elements.blocks.value(b, v) ?? "").join("\u0000");
        const list = blocks.get(key);
        if (list) list.push(b);
        else blocks.set(key, [b]);
      }
      let list = this.#blocksOf.get(p);
      if (list === undefined) this.#blocksOf.set(p, (list = []));
      list.push({ dynamic: d, per: dyn.per, blocks });
    });
    this.orphans = this.#expandOrphans();
  }

  /** Blocks that expanded empty at the start: no producer element has their values. */
  readonly orphans: number;

  of(task: number): TaskElements {
    return this.#tasks[task]!;
  }

  dynamic(task: number): DynamicElements | undefined {
    const e = this.#tasks[task]!;
    return e instanceof DynamicElements ? e : undefined;
  }

  /** Whether elements of `task` decide some dynamic task's elements. */
  expands(task: number): boolean {
    return this.#blocksOf.has(task);
  }

  /** The dynamic tasks (in plan order) and their blocks that element `element` of producer `task` expands. */
  expansionsOf(task: number, element: number): Expansion[] {
    const out: Expansion[] = [];
    const producer = this.#tasks[task]!;
    for (const { dynamic, per, blocks } of this.#blocksOf.get(task) ?? []) {
      const key = per.map((v) => producer.value(element, v) ?? "").join("\u0000");
      const list = blocks.get(key);
      if (list !== undefined) out.push({ task: dynamic, blocks: list });
    }
    return out.sort((a, b) => a.task - b.task);
  }

  /**
   * Blocks no element of their (static) producer can expand, since their
   * `per` values match none: they expand empty at once, so nothing waits
   * for them. Returns how many.
   */
  #expandOrphans(): number {
    let n = 0;
    for (const [p, list] of this.#blocksOf) {
      const producer = this.#tasks[p]!;
      if (producer instanceof DynamicElements) continue;
      for (const { dynamic, per, blocks } of list) {
        const keys = new Set<string>();
        for (let k = 0; k < producer.size; k++) keys.add(per.map((v) => producer.value(k, v) ?? "").join("\u0000"));
        const elements = this.#tasks[dynamic] as DynamicElements;
        for (const [key, bs] of blocks) {
          if (keys.has(key)) continue;
          for (const b of bs) elements.expand(b, []);
          n += bs.length;
        }
      }
    }
    return n;
  }

  /** What element `element` of producer task `task` decided in step `step` (its pattern output's rows); undefined before it ended. */
  decided(task: number, element: number, step: string): readonly (readonly string[])[] | undefined {
    return this.#decided.get(`${task}\u0000${step}`)?.get(element);
  }

  /** Records what a producer element decided (rows of its pattern output), for gathers over its files. */
  setDecided(task: number, element: number, step: string, rows: readonly (readonly string[])[]): void {
    const key = `${task}\u0000${step}`;
    let map = this.#decided.get(key);
    if (map === undefined) this.#decided.set(key, (map = new Map()));
    map.set(element, rows);
  }

  /** The index of a task by id. */
  indexOf(id: string): number | undefined {
    return this.#index.get(id);
  }
}
