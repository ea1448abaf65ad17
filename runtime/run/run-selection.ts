/**
 * A partial run's selection while the run goes (issue 14): select.ts
 * chose a dynamic task's elements per block, since they are not known
 * before their producer runs; here each block's elements get their steps
 * and forced steps the moment it expands, before any of them can be ready.
 * Blocks the selection leaves out never expand in this run (their elements
 * would not run), so nothing waits for them. A target that named elements
 * by decided values (`map[sample=a,chunk=3]`) that the producer did not
 * decide is the run's failure, with what it decided instead.
 */
import type { Plan } from "../../contract/plan.js";
import type { RunElements } from "../scheduler/elements.js";
import type { ChosenElement, DynamicChoice, ExpectedFile, Selection } from "./select.js";

/** How many of a producer element's decided values a missed target names. */
const VALUES_NAMED = 10;

export class RunSelection implements Selection {
  /** Per task, per element: a dynamic task's grow as it expands (a new array each time it grows). */
  readonly steps: (Uint16Array | undefined)[];
  readonly forced: (Uint16Array | undefined)[];
  readonly jobs: readonly number[];
  readonly dynamic: readonly (DynamicChoice | undefined)[] | undefined;
  readonly expected: readonly ExpectedFile[] | undefined;
  /** Why targets were not made: a block expanded without the elements they name. */
  readonly missed: string[] = [];
  /** Per dynamic task: its chosen elements by block. */
  readonly #chosen: Map<number, ChosenElement[]>[];
  /**
   * Per target naming elements by decided values: its blocks (`task:block`)
   * not expanded yet, whether one had such an element (then it was made),
   * and why each expanded one had none.
   */
  readonly #targets = new Map<string, { readonly blocks: Set<string>; found: boolean; readonly misses: string[] }>();

  constructor(
    readonly plan: Plan,
    selection: Selection,
    readonly elements: RunElements,
  ) {
    this.steps = [...selection.steps];
    this.forced = [...selection.forced];
    this.jobs = selection.jobs;
    this.dynamic = selection.dynamic;
    this.expected = selection.expected;
    this.#chosen = plan.tasks.map((_, t) => {
      const byBlock = new Map<number, ChosenElement[]>();
      for (const c of selection.dynamic?.[t]?.elements ?? []) {
        const list = byBlock.get(c.block);
        if (list) list.push(c);
        else byBlock.set(c.block, [c]);
      }
      return byBlock;
    });
    selection.dynamic?.forEach((choice, t) => {
      for (const c of choice?.elements ?? []) {
        if (c.target === undefined) continue;
        let entry = this.#targets.get(c.target);
        if (entry === undefined) this.#targets.set(c.target, (entry = { blocks: new Set(), found: false, misses: [] }));
        entry.blocks.add(`${t}:${c.block}`);
      }
    });
    selection.dynamic?.forEach((choice, t) => {
      if (choice === undefined) return;
      this.steps[t] = new Uint16Array(16);
      this.forced[t] = new Uint16Array(16);
      const elements = this.elements.dynamic(t)!;
      // A block expanded already has no producer element at all (RunElements' orphans): what a target names of it never comes.
      for (const c of choice.elements)
        if (c.target !== undefined && elements.expanded[c.block]) this.#settle(t, c, false, this.#orphan(t, c));
      for (let b = 0; b < choice.steps.length; b++) if (choice.steps[b] === 0 && !this.#chosen[t]!.has(b)) elements.leaveOut(b);
    });
  }

  /**
   * Block `block` of dynamic task `task` became elements `[first, end)`:
   * each runs the steps its block runs, or more if a target named it by
   * its decided values; forced where its block is, within those.
   */
  grow(task: number, block: number, first: number, end: number): void {
    const choice = this.dynamic?.[task];
    if (choice === undefined) return;
    this.steps[task] = room(this.steps[task]!, end);
    this.forced[task] = room(this.forced[task]!, end);
    const steps = this.steps[task]!;
    const forced = this.forced[task]!;
    const elements = this.elements.of(task);
    const chosen = this.#chosen[task]!.get(block) ?? [];
    const has = (c: ChosenElement, j: number) => c.values.every(([name, value]) => elements.value(j, name) === value);
    for (let j = first; j < end; j++) {
      let s = choice.steps[block]!;
      for (const c of chosen) if (c.steps > s && has(c, j)) s = c.steps;
      steps[j] = s;
      const f = choice.forced[block]!;
      forced[j] = f > 0 && f <= s ? f : 0;
    }
    for (const c of chosen) {
      if (c.target === undefined) continue;
      let found = false;
      for (let j = first; j < end && !found; j++) found = has(c, j);
      this.#settle(task, c, found, found ? "" : this.#miss(task, block, first, end, c));
    }
  }

  /**
   * One of the blocks target `c.target` names expanded (`found`: with an
   * element it names). Once all have, and none had one, it was not made:
   * the reason is the one block's, or says how many there were.
   */
  #settle(task: number, c: ChosenElement, found: boolean, miss: string): void {
    const entry = this.#targets.get(c.target!)!;
    if (!entry.blocks.delete(`${task}:${c.block}`)) return;
    entry.found ||= found;
    if (!found) entry.misses.push(miss);
    if (entry.blocks.size > 0 || entry.found) return;
    const dynamic = this.plan.tasks[task]!.space.dynamic!;
    const wanted = c.values.map(([n, v]) => `${n}=${v}`).join(",");
    const message =
      entry.misses.length === 1
        ? entry.misses[0]!
        : `target \`${c.target}\` was not made: none of the ${entry.misses.length} elements of \`${dynamic.from.step}\` it names decided ${wanted}`;
    if (!this.missed.includes(message)) this.missed.push(message);
  }

  /**
   * Element `element` of producer task `task` decided `rows` in step
   * `step` (columns: its `decides`): a target naming a file of its pattern
   * output that it did not decide was not made.
   */
  decided(task: number, element: number, step: string, vars: readonly string[], rows: readonly (readonly string[])[]): void {
    for (const x of this.expected ?? []) {
      if (x.task !== task || x.element !== element || x.step !== step) continue;
      const columns = x.values.map(([name]) => vars.indexOf(name));
      if (rows.some((row) => x.values.every(([, value], k) => row[columns[k]!] === value))) continue;
      const identity = this.elements.of(task).identity(element);
      const shown = [...new Set(rows.map((row) => columns.map((c) => row[c]).join(",")))];
      const list =
        shown.slice(0, VALUES_NAMED).join(", ") + (shown.length > VALUES_NAMED ? ` and ${shown.length - VALUES_NAMED} more` : "");
      const what = x.values.map(([name]) => name).join(",");
      const decided = shown.length === 0 ? `decided no ${what}` : `decided ${what} ${list}`;
      const message = `target \`${x.target}\` was not made: \`${step}${identity === "" ? "" : `[${identity}]`}\` ${decided}, not ${x.values.map(([, v]) => v).join(",")}`;
      if (!this.missed.includes(message)) this.missed.push(message);
    }
  }

  #orphan(task: number, c: ChosenElement): string {
    const dynamic = this.plan.tasks[task]!.space.dynamic!;
    const blocks = this.elements.dynamic(task)!.blocks;
    const values = dynamic.per.map((v) => `${v}=${blocks.value(c.block, v)}`).join(",");
    return `target \`${c.target}\` was not made: no element of \`${dynamic.from.step}\` has ${values}, so nothing decides its ${c.values.map(([n]) => n).join(",")}`;
  }

  #miss(task: number, block: number, first: number, end: number, c: ChosenElement): string {
    const dynamic = this.plan.tasks[task]!.space.dynamic!;
    const blocks = this.elements.dynamic(task)!.blocks;
    const producer = `${dynamic.from.step}${dynamic.per.length === 0 ? "" : `[${dynamic.per.map((v) => `${v}=${blocks.value(block, v)}`).join(",")}]`}`;
    const elements = this.elements.of(task);
    const names = c.values.map(([name]) => name);
    const rows = [...new Set(Array.from({ length: end - first }, (_, k) => names.map((n) => elements.value(first + k, n)).join(",")))];
    const shown = rows.slice(0, VALUES_NAMED).join(", ") + (rows.length > VALUES_NAMED ? ` and ${rows.length - VALUES_NAMED} more` : "");
    const what = names.join(",");
    const wanted = c.values.map(([, v]) => v).join(",");
    const decided = rows.length === 0 ? `decided no ${what}` : `decided ${what} ${shown}`;
    return `target \`${c.target}\` was not made: \`${producer}\` ${decided}, not ${wanted}`;
  }
}

/** `a`, or a copy with room for `size` elements. */
function room(a: Uint16Array, size: number): Uint16Array {
  if (size <= a.length) return a;
  const b = new Uint16Array(Math.max(size, a.length * 2));
  b.set(a);
  return b;
}
