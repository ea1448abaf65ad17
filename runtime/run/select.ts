/**
 * Which jobs a partial run runs: `wfc run FILE TARGET…`, `--until` and
 * `--forcerun`, from the plan alone (pure; no file is looked at). A target
 * selects the elements it names and everything upstream they need, through
 * the plan's element edges, and nothing else; `--until` keeps only what its
 * stages need; `--forcerun` marks a stage and everything downstream of it
 * as to run even if up to date.
 *
 * Selection is per element and per step: a fused task runs, per element, a
 * prefix of its steps (a target on its first stage does not run the second),
 * and an input that only a later step reads is not needed by the prefix.
 */
import { isAbsolute, posix, relative, resolve, sep } from "node:path";
import { ElementSpace, rangeValue, varSize } from "../../contract/elements.js";
import type { ElementEdge, Plan, PlanDep, PlanTask, PlanVar } from "../../contract/plan.js";
import { expandPath } from "../../contract/template.js";
import { unreachable } from "../../contract/unreachable.js";
import { parseTarget, type Target } from "./target.js";

/** Per task, what of each element runs; made by `select`, read by the scheduler and a job's execution. */
export interface Selection {
  /** Per task: per element, how many of its steps run (0: the element does not run); undefined: all of every element. */
  readonly steps: readonly (Uint16Array | undefined)[];
  /** Per task: per element, 1 + the first step `--forcerun` forces (0: none); undefined: nothing of the task is forced. */
  readonly forced: readonly (Uint16Array | undefined)[];
  /** Per task: how many of its jobs run (those with at least one selected element). */
  readonly jobs: readonly number[];
}

/** What the user asked for, as typed. */
export interface SelectRequest {
  readonly targets: readonly string[];
  readonly until: readonly string[];
  /** Stage names. */
  readonly forcerun: readonly string[];
  /** The workflow's folder (where jobs run), absolute: an absolute path target inside it is made relative to it. */
  readonly workdir: string;
  /** The user's folder: a relative path no stage writes as given is also tried relative to it. */
  readonly cwd: string;
}

/** Where a target was given. */
export type TargetOption = "target" | "--until" | "--forcerun";

/** Why a target selects nothing: data, turned into a diagnostic by the CLI. */
export type TargetProblem =
  | { readonly kind: "syntax"; readonly option: TargetOption; readonly text: string; readonly message: string }
  | {
      readonly kind: "unknown-stage";
      readonly option: TargetOption;
      readonly text: string;
      readonly stage: string;
      readonly stages: readonly string[];
    }
  | {
      readonly kind: "unknown-variable";
      readonly option: TargetOption;
      readonly text: string;
      readonly stage: string;
      readonly variable: string;
      readonly variables: readonly string[];
    }
  | {
      readonly kind: "unknown-value";
      readonly option: TargetOption;
      readonly text: string;
      readonly stage: string;
      readonly variable: string;
      readonly value: string;
      /** Some of the values the stage's elements have (at most VALUES_SHOWN). */
      readonly values: readonly string[];
    }
  | { readonly kind: "no-element"; readonly option: TargetOption; readonly text: string; readonly stage: string }
  | { readonly kind: "dynamic"; readonly option: TargetOption; readonly text: string; readonly stages: readonly string[] }
  | {
      readonly kind: "unknown-path";
      readonly option: TargetOption;
      readonly text: string;
      readonly stages: readonly string[];
      /** Outputs of the plan (the first OUTPUTS_COMPARED), for a did-you-mean. */
      readonly outputs: readonly string[];
    };

export type Selected =
  { readonly ok: true; readonly selection: Selection | undefined } | { readonly ok: false; readonly problems: readonly TargetProblem[] };

/** Why a selection does not fit a plan (it was made by `select` for another one), or undefined. */
export function selectionProblem(plan: Plan, selection: Selection): string | undefined {
  const fits = (list: readonly (Uint16Array | undefined)[]) =>
    list.length === plan.tasks.length && list.every((a, t) => a === undefined || a.length === plan.tasks[t]!.space.size);
  if (fits(selection.steps) && fits(selection.forced) && selection.jobs.length === plan.tasks.length) return undefined;
  return "the selection was not made for this plan (make it with select() on the same plan)";
}

/** One step of one element of a job, and whether a run with `selection` runs it and forces it. */
export interface JobUnit {
  readonly element: number;
  readonly step: number;
  readonly selected: boolean;
  readonly forced: boolean;
}

/** Every step of every element of job `[first, end)` of task `task` (of `stepCount` steps), in running order. */
export function jobUnits(selection: Selection | undefined, task: number, first: number, end: number, stepCount: number): JobUnit[] {
  const steps = selection?.steps[task];
  const forced = selection?.forced[task];
  const units: JobUnit[] = [];
  for (let e = first; e < end; e++) {
    const f = forced?.[e] ?? 0;
    for (let s = 0; s < stepCount; s++)
      units.push({ element: e, step: s, selected: s < (steps?.[e] ?? stepCount), forced: f > 0 && s >= f - 1 });
  }
  return units;
}

/** At most this many of a variable's values are named in a problem. */
export const VALUES_SHOWN = 24;

/** At most this many outputs are compared with a path no stage writes, for a suggestion. */
const OUTPUTS_COMPARED = 10_000;

/**
 * The selection a request makes, or every problem with its targets. No
 * target, `--until` nor `--forcerun`: undefined (the whole plan, as always).
 */
export function select(plan: Plan, request: SelectRequest): Selected {
  if (request.targets.length === 0 && request.until.length === 0 && request.forcerun.length === 0)
    return { ok: true, selection: undefined };
  // A dynamic task's elements are known only as the run goes (issue 14): a partial run cannot name them yet.
  const dynamic = plan.tasks.filter((t) => t.space.dynamic !== undefined).flatMap((t) => t.stages);
  if (dynamic.length > 0) {
    const [option, text] =
      request.targets.length > 0
        ? (["target", request.targets[0]!] as const)
        : request.until.length > 0
          ? (["--until", request.until[0]!] as const)
          : (["--forcerun", request.forcerun[0]!] as const);
    return { ok: false, problems: [{ kind: "dynamic", option, text, stages: dynamic }] };
  }
  const graph = new PlanGraph(plan);
  const problems: TargetProblem[] = [];
  const seedsOf = (texts: readonly string[], option: TargetOption): Seed[] =>
    texts.flatMap((text) => {
      const found = resolveTarget(graph, text, option, request);
      if (!found.ok) problems.push(found.problem);
      return found.ok ? found.seeds : [];
    });
  const targetSeeds = seedsOf(request.targets, "target");
  const untilSeeds = seedsOf(request.until, "--until");
  // `--forcerun` takes whole stages: "that stage and everything downstream of it".
  const elementsOf = (text: string) => {
    const parsed = parseTarget(text);
    return parsed.ok && parsed.target.kind === "stage";
  };
  for (const text of request.forcerun.filter(elementsOf))
    problems.push({ kind: "syntax", option: "--forcerun", text, message: "--forcerun takes stage names, not elements" });
  const forceSeeds = seedsOf(
    request.forcerun.filter((text) => !elementsOf(text)),
    "--forcerun",
  );
  if (problems.length > 0) return { ok: false, problems: dedupe(problems) };

  let steps: (Uint16Array | undefined)[] = plan.tasks.map(() => undefined);
  if (targetSeeds.length > 0 || untilSeeds.length > 0) {
    const wanted = targetSeeds.length > 0 ? graph.upstream(targetSeeds) : undefined;
    const until = untilSeeds.length > 0 ? graph.upstream(untilSeeds) : undefined;
    steps = wanted !== undefined && until !== undefined ? intersect(wanted, until) : (wanted ?? until)!;
  }
  const forced = graph.downstream(forceSeeds).map((f, t) => {
    if (f === undefined) return undefined;
    const s = steps[t];
    // Forced only where it runs at all: a step the selection leaves out stays out.
    if (s !== undefined) for (let e = 0; e < f.length; e++) if (f[e]! > s[e]!) f[e] = 0;
    return f.some((x) => x > 0) ? f : undefined;
  });
  const jobs = plan.tasks.map((task, t) => selectedJobs(task, steps[t]));
  return { ok: true, selection: { steps, forced, jobs } };
}

/** An element of a task, and how many of its steps must run. */
interface Seed {
  readonly task: number;
  readonly element: number;
  readonly steps: number;
}

type Resolved = { readonly ok: true; readonly seeds: Seed[] } | { readonly ok: false; readonly problem: TargetProblem };

function resolveTarget(graph: PlanGraph, text: string, option: TargetOption, request: SelectRequest): Resolved {
  const parsed = parseTarget(text);
  if (!parsed.ok) return { ok: false, problem: { kind: "syntax", option, text, message: parsed.error.message } };
  const target: Target = parsed.target;
  const stage = graph.stage(target.kind === "stage" ? target.stage : target.text);
  if (stage === undefined) {
    if (target.kind === "name" && option !== "--forcerun") {
      const seeds = graph.writers(pathCandidates(text, request));
      if (seeds.length > 0) return { ok: true, seeds };
      // A bare word is more likely a misspelt stage than a file.
      if (!/[/.]/.test(text)) return { ok: false, problem: { kind: "unknown-stage", option, text, stage: text, stages: graph.stageNames } };
      return {
        ok: false,
        problem: { kind: "unknown-path", option, text, stages: graph.stageNames, outputs: graph.outputs(OUTPUTS_COMPARED) },
      };
    }
    const name = target.kind === "stage" ? target.stage : target.text;
    return { ok: false, problem: { kind: "unknown-stage", option, text, stage: name, stages: graph.stageNames } };
  }
  const { task, step } = stage;
  const values = target.kind === "stage" ? target.values : [];
  const space = graph.plan.tasks[task]!.space;
  for (const [variable, value] of values) {
    const v = space.vars.find((x) => x.name === variable);
    const base = { option, text, stage: graph.plan.tasks[task]!.steps[step]!.stage, variable };
    if (v === undefined) return { ok: false, problem: { kind: "unknown-variable", ...base, variables: space.vars.map((x) => x.name) } };
    if (!hasValue(v, value)) return { ok: false, problem: { kind: "unknown-value", ...base, value, values: someValues(v) } };
  }
  const seeds: Seed[] = [];
  graph.spaces[task]!.forEach((bindings, element) => {
    if (values.every(([variable, value]) => String(bindings.get(variable)?.value) === value))
      seeds.push({ task, element, steps: step + 1 });
  });
  if (seeds.length === 0)
    return { ok: false, problem: { kind: "no-element", option, text, stage: graph.plan.tasks[task]!.steps[step]!.stage } };
  return { ok: true, seeds };
}

/**
 * The ways a path target may name an output, relative to the workflow's
 * folder: as given (`./` and `a/../` folded), an absolute path inside the
 * folder, or a relative one from the user's folder.
 */
function pathCandidates(text: string, request: SelectRequest): string[] {
  const inside = (absolute: string): string | undefined => {
    const rel = relative(request.workdir, absolute);
    return rel === "" || rel.startsWith("..") || isAbsolute(rel) ? undefined : rel.split(sep).join("/");
  };
  if (isAbsolute(text)) return [inside(text)].filter((p) => p !== undefined);
  const out = [posix.normalize(text)];
  const fromCwd = inside(resolve(request.cwd, text));
  if (fromCwd !== undefined && !out.includes(fromCwd)) out.push(fromCwd);
  return out.filter((p) => !p.startsWith("../") && p !== "..");
}

function hasValue(v: PlanVar, value: string): boolean {
  if ("values" in v) return v.values.some((x) => String(x) === value);
  if ("range" in v) {
    const [start, , step] = v.range;
    const n = Number(value);
    if (value.trim() === "" || !Number.isInteger(n)) return false;
    const k = (n - start) / step;
    return Number.isInteger(k) && k >= 0 && k < varSize(v) && String(rangeValue(start, step, k)) === value;
  }
  const key = v.sheet.columns.indexOf(v.sheet.key);
  return v.sheet.rows.some((row) => (row[key] ?? "") === value);
}

function someValues(v: PlanVar): string[] {
  const n = Math.min(varSize(v), VALUES_SHOWN + 1);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    if ("values" in v) out.push(String(v.values[i]));
    else if ("range" in v) out.push(String(rangeValue(v.range[0], v.range[2], i)));
    else out.push(v.sheet.rows[i]![v.sheet.columns.indexOf(v.sheet.key)] ?? "");
  }
  return out;
}

/** Element-wise minimum of two selections (each closed upstream, so their intersection is too). */
function intersect(a: (Uint16Array | undefined)[], b: (Uint16Array | undefined)[]): (Uint16Array | undefined)[] {
  return a.map((x, t) => {
    const y = b[t];
    if (x === undefined || y === undefined) return x ?? y;
    return x.map((v, e) => Math.min(v, y[e]!));
  });
}

function selectedJobs(task: PlanTask, steps: Uint16Array | undefined): number {
  if (steps === undefined) return task.jobs ?? 0;
  let n = 0;
  for (let j = 0; j < (task.jobs ?? 0); j++) {
    const end = Math.min(task.space.size, (j + 1) * task.batch);
    for (let e = j * task.batch; e < end; e++)
      if (steps[e]! > 0) {
        n++;
        break;
      }
  }
  return n;
}

function dedupe(problems: TargetProblem[]): TargetProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.option}\u0000${p.text}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The plan as a graph of elements and steps, both ways: what the selection walks. */
class PlanGraph {
  readonly spaces: ElementSpace[];
  readonly stageNames: string[];
  readonly #index: Map<string, number>;
  readonly #stages = new Map<string, { task: number; step: number }>();
  /** Per `match` edge: the producer elements by the key of the `on` values, built once. */
  readonly #matchIndex = new Map<ElementEdge, Map<string, number[]>>();

  constructor(readonly plan: Plan) {
    this.spaces = plan.tasks.map((t) => new ElementSpace(t.space));
    this.#index = new Map(plan.tasks.map((t, i) => [t.id, i]));
    plan.tasks.forEach((t, task) => t.steps.forEach((s, step) => this.#stages.set(s.stage, { task, step })));
    this.stageNames = [...this.#stages.keys()];
  }

  /** A stage by name; or a fused task by the id progress lines show (`trim+align`): its last step. */
  stage(name: string): { task: number; step: number } | undefined {
    const stage = this.#stages.get(name);
    if (stage !== undefined) return stage;
    const task = this.#index.get(name);
    return task === undefined ? undefined : { task, step: this.plan.tasks[task]!.steps.length - 1 };
  }

  /** The elements (and step) whose outputs are one of `paths`. */
  writers(paths: readonly string[]): Seed[] {
    const wanted = new Set(paths);
    const seeds: Seed[] = [];
    if (wanted.size === 0) return seeds;
    this.plan.tasks.forEach((task, t) => {
      task.steps.forEach((step, s) => {
        for (const output of step.outputs) {
          // The text before the first placeholder must start the path: most templates are passed over without an element.
          const head = typeof output.template[0] === "string" ? stripDot(output.template[0]) : "";
          if (![...wanted].some((p) => p.startsWith(head))) continue;
          this.spaces[t]!.forEach((bindings, element) => {
            const path = expandPath(output.template, bindings, (name) => this.plan.params[name]);
            if (path !== undefined && wanted.has(posix.normalize(path))) seeds.push({ task: t, element, steps: s + 1 });
          });
        }
      });
    });
    return seeds;
  }

  /** The plan's output paths, up to `limit` of them. */
  outputs(limit: number): string[] {
    const out: string[] = [];
    for (const [t, task] of this.plan.tasks.entries())
      for (const step of task.steps)
        for (const output of step.outputs) {
          if (out.length >= limit) return out;
          this.spaces[t]!.forEach((bindings) => {
            const path = out.length < limit ? expandPath(output.template, bindings, (name) => this.plan.params[name]) : undefined;
            if (path !== undefined) out.push(posix.normalize(path));
          });
        }
    return out;
  }

  /**
   * Every element and step the seeds need: per task, per element, how many
   * steps must run. A step needs, for each dep that feeds it (an `after`
   * dep feeds the whole element), the producer elements the edge names,
   * up to the producer step that writes the input.
   */
  upstream(seeds: readonly Seed[]): Uint16Array[] {
    const steps = this.plan.tasks.map((t) => new Uint16Array(t.space.size));
    const work: Seed[] = [...seeds];
    const gathered = new Map<PlanDep, number>();
    for (let next = work.pop(); next !== undefined; next = work.pop()) {
      const { task: t, element: e, steps: want } = next;
      const had = steps[t]![e]!;
      if (want <= had) continue;
      steps[t]![e] = want;
      const task = this.plan.tasks[t]!;
      for (const dep of task.deps) {
        const feeds =
          dep.input === null
            ? 0
            : Math.max(
                0,
                task.steps.findIndex((s) => s.stage === dep.input!.step),
              );
        // Only the steps newly selected need what feeds them.
        if (feeds < had || feeds >= want) continue;
        const p = this.#index.get(dep.task)!;
        const producerSteps = this.#producerSteps(task, dep, p);
        // Every element of a gather needs all of the producer: walk it once, not once per element.
        if (dep.edge.kind === "all") {
          if ((gathered.get(dep) ?? 0) >= producerSteps) continue;
          gathered.set(dep, producerSteps);
        }
        for (const k of this.producers(dep.edge, p, t, e)) work.push({ task: p, element: k, steps: producerSteps });
      }
    }
    return steps;
  }

  /**
   * The elements forced: per task, per element, 1 + the first forced step.
   * A forced stage forces its own later steps, and every consumer element
   * of a forced element from the step that reads it. Tasks are in
   * dependency order, so one pass suffices.
   */
  downstream(seeds: readonly Seed[]): (Uint16Array | undefined)[] {
    const forced: (Uint16Array | undefined)[] = this.plan.tasks.map(() => undefined);
    const mark = (t: number, e: number, from: number) => {
      const f = (forced[t] ??= new Uint16Array(this.plan.tasks[t]!.space.size));
      if (f[e] === 0 || f[e]! > from + 1) f[e] = from + 1;
    };
    for (const s of seeds) mark(s.task, s.element, s.steps - 1);
    this.plan.tasks.forEach((task, c) => {
      for (const dep of task.deps) {
        const p = this.#index.get(dep.task)!;
        const pf = forced[p];
        if (pf === undefined) continue;
        const feeds =
          dep.input === null
            ? 0
            : Math.max(
                0,
                task.steps.findIndex((s) => s.stage === dep.input!.step),
              );
        // The producer's element is forced at or before the step that writes what this dep reads.
        const writes = this.#producerSteps(task, dep, p);
        if (dep.edge.kind === "all") {
          // A gather waits for every producer element: forced if any is.
          if (pf.some((f) => f > 0 && f <= writes)) for (let j = 0; j < task.space.size; j++) mark(c, j, feeds);
          continue;
        }
        for (let j = 0; j < task.space.size; j++) {
          for (const k of this.producers(dep.edge, p, c, j)) {
            if (pf[k]! > 0 && pf[k]! <= writes) {
              mark(c, j, feeds);
              break;
            }
          }
        }
      }
    });
    return forced;
  }

  /** How many of the producer's steps must run for `dep`: up to the last step that writes the input it feeds (all for `after`). */
  #producerSteps(consumer: PlanTask, dep: PlanDep, p: number): number {
    const producer = this.plan.tasks[p]!;
    if (dep.input === null) return producer.steps.length;
    const input = consumer.steps.find((s) => s.stage === dep.input!.step)?.inputs[dep.input.index];
    const writers = (input?.from ?? [])
      .filter((f) => f.task === producer.id)
      .map((f) => producer.steps.findIndex((s) => s.stage === f.step));
    return writers.length === 0 || writers.includes(-1) ? producer.steps.length : Math.max(...writers) + 1;
  }

  /**
   * The elements of producer `p` that element `j` of consumer `c` waits for
   * through `edge`, as the scheduler's readiness counts them (a `match`
   * element whose `when` does not hold waits for none).
   */
  *producers(edge: ElementEdge, p: number, c: number, j: number): Generator<number> {
    const size = this.plan.tasks[p]!.space.size;
    switch (edge.kind) {
      case "one-to-one":
        if (j < size) yield j;
        return;
      case "all":
        for (let k = 0; k < size; k++) yield k;
        return;
      case "map":
        for (let x = edge.offsets[j]!; x < edge.offsets[j + 1]!; x++) yield edge.indices[x]!;
        return;
      case "match": {
        const cs = this.spaces[c]!;
        if (Object.entries(edge.when).some(([v, x]) => cs.value(j, v) !== x)) return;
        const key = edge.on.map(([, b]) => cs.value(j, b) ?? "").join("\u0000");
        yield* this.#matches(edge, p).get(key) ?? [];
        return;
      }
      case "expand":
        // Never reached: select() refuses a plan with a dynamic space before walking it (WFC266).
        return;
      default:
        unreachable(edge);
    }
  }

  #matches(edge: Extract<ElementEdge, { kind: "match" }>, p: number): Map<string, number[]> {
    let index = this.#matchIndex.get(edge);
    if (index !== undefined) return index;
    index = new Map();
    const ps = this.spaces[p]!;
    for (let k = 0; k < this.plan.tasks[p]!.space.size; k++) {
      if (Object.entries(edge.where).some(([v, x]) => ps.value(k, v) !== x)) continue;
      const key = edge.on.map(([a]) => ps.value(k, a) ?? "").join("\u0000");
      const list = index.get(key);
      if (list) list.push(k);
      else index.set(key, [k]);
    }
    this.#matchIndex.set(edge, index);
    return index;
  }
}

function stripDot(head: string): string {
  return head.startsWith("./") ? head.slice(2) : head;
}
