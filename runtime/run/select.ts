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
 *
 * A dynamic task's elements (issue 14) are not known before the run, so it
 * is selected per block (`DynamicChoice`): every element a block will have,
 * or those with given decided values (`map[sample=a,chunk=3]`, a path); the
 * run applies that to the elements as they come (run-selection.ts).
 */
import { isAbsolute, posix, relative, resolve, sep } from "node:path";
import { ElementSpace, rangeValue, varSize } from "../../contract/elements.js";
import type { ElementEdge, Part, Plan, PlanDep, PlanStep, PlanTask, PlanVar } from "../../contract/plan.js";
import { decidedPattern, matchDecided } from "../../contract/expansion.js";
import { expandPath } from "../../contract/template.js";
import { unreachable } from "../../contract/unreachable.js";
import { parseTarget, type Target } from "./target.js";

/** Per task, what of each element runs; made by `select`, read by the scheduler and a job's execution. */
export interface Selection {
  /** Per task: per element, how many of its steps run (0: the element does not run); undefined: all of every element. */
  readonly steps: readonly (Uint16Array | undefined)[];
  /** Per task: per element, 1 + the first step `--forcerun` forces (0: none); undefined: nothing of the task is forced. */
  readonly forced: readonly (Uint16Array | undefined)[];
  /** Per task: how many of its jobs run (those with at least one selected element); a dynamic task: 0 (its jobs are known as it expands). */
  readonly jobs: readonly number[];
  /**
   * Per task: what of a dynamic task runs, per block (its `steps` and
   * `forced` are undefined here, and filled in element by element as the
   * run expands it); undefined for a static task, or a dynamic one that
   * runs whole with nothing forced. Absent: no dynamic task.
   */
  readonly dynamic?: readonly (DynamicChoice | undefined)[];
  /** Files of producers' pattern outputs that targets name: the run checks their producer element decided them. */
  readonly expected?: readonly ExpectedFile[];
}

/** A target that names a file a producer element's pattern output may match (`work/chunks/a/3.fa`). */
export interface ExpectedFile {
  readonly task: number;
  readonly element: number;
  /** The deciding step. */
  readonly step: string;
  /** Its decided variables and the values the file has. */
  readonly values: readonly (readonly [string, string])[];
  readonly target: string;
}

/** What of a dynamic task a partial run runs, told per block: its elements get it as they come. */
export interface DynamicChoice {
  /** Per block: how many steps each of its elements runs (0: none, but for those `elements` names). */
  readonly steps: Uint16Array;
  /** Per block: 1 + the first step forced in each of its elements (0: none). */
  readonly forced: Uint16Array;
  /** Elements named by their decided values: each runs at least `steps` steps. */
  readonly elements: readonly ChosenElement[];
}

/** Elements of a block that have these decided values (`chunk=3`). */
export interface ChosenElement {
  readonly block: number;
  /** Decided variables and their values, sorted by name. */
  readonly values: readonly (readonly [string, string])[];
  readonly steps: number;
  /** The target (as typed) that named them: the run fails when the block has none. Undefined: named only to feed another element. */
  readonly target: string | undefined;
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
  const dynamicFits =
    selection.dynamic === undefined ||
    (selection.dynamic.length === plan.tasks.length &&
      selection.dynamic.every(
        (d, t) => d === undefined || (plan.tasks[t]!.space.dynamic !== undefined && d.steps.length === plan.tasks[t]!.space.size),
      ));
  if (fits(selection.steps) && fits(selection.forced) && selection.jobs.length === plan.tasks.length && dynamicFits) return undefined;
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
  let chosen: ChosenElement[][] = plan.tasks.map(() => []);
  if (targetSeeds.length > 0 || untilSeeds.length > 0) {
    const wanted = targetSeeds.length > 0 ? graph.upstream(targetSeeds) : undefined;
    const until = untilSeeds.length > 0 ? graph.upstream(untilSeeds) : undefined;
    ({ steps, chosen } = wanted !== undefined && until !== undefined ? intersect(wanted, until) : (wanted ?? until)!);
  }
  const isDynamic = (t: number) => plan.tasks[t]!.space.dynamic !== undefined;
  const forced = graph.downstream(forceSeeds).map((f, t) => {
    if (f === undefined) return undefined;
    const s = steps[t];
    // Forced only where it runs at all: a step the selection leaves out stays out (a dynamic task's elements: as they come).
    if (s !== undefined && !isDynamic(t)) for (let e = 0; e < f.length; e++) if (f[e]! > s[e]!) f[e] = 0;
    return f.some((x) => x > 0) ? f : undefined;
  });
  const jobs = plan.tasks.map((task, t) => (isDynamic(t) ? 0 : selectedJobs(task, steps[t])));
  // Pattern files targets name, of elements whose deciding step runs.
  const expected = [...targetSeeds, ...untilSeeds].flatMap((seed): ExpectedFile[] =>
    seed.expects === undefined || (steps[seed.task]?.[seed.element] ?? 0) < seed.steps
      ? []
      : [{ task: seed.task, element: seed.element, step: seed.expects.step, values: seed.expects.values, target: seed.target! }],
  );
  const selection: Selection = {
    steps: steps.map((s, t) => (isDynamic(t) ? undefined : s)),
    forced,
    jobs,
    ...(expected.length > 0 ? { expected } : {}),
  };
  if (!plan.tasks.some((_, t) => isDynamic(t))) return { ok: true, selection };
  const dynamic = plan.tasks.map((task, t): DynamicChoice | undefined => {
    if (!isDynamic(t) || (steps[t] === undefined && forced[t] === undefined)) return undefined;
    return {
      steps: steps[t] ?? new Uint16Array(task.space.size).fill(task.steps.length),
      forced: forced[t] ?? new Uint16Array(task.space.size),
      elements: chosen[t]!,
    };
  });
  return { ok: true, selection: { ...selection, forced: forced.map((f, t) => (isDynamic(t) ? undefined : f)), dynamic } };
}

/** How many of jobs `[first, end)` of a task run in a partial run (a dynamic task's as far as they are known: run-selection.ts). */
export function selectedIn(selection: Selection | undefined, task: number, first: number, end: number): number {
  const steps = selection?.steps[task];
  if (steps === undefined) return end - first;
  let n = 0;
  for (let e = first; e < end; e++) if (steps[e]! > 0) n++;
  return n;
}

/** Decided variables and values, sorted by name. */
type Values = readonly (readonly [string, string])[];

/** An element of a task (a block of a dynamic task, or those of its elements with `values`), and how many of its steps must run. */
interface Seed {
  readonly task: number;
  readonly element: number;
  readonly steps: number;
  readonly values?: Values;
  /** The target that named it (elements by decided values only). */
  readonly target?: string;
  /** A file of the element's pattern output a target names: the deciding step and the values it must decide. */
  readonly expects?: { readonly step: string; readonly values: Values };
}

/** What a walk upstream selects: per task, per element (a dynamic task: per block), how many steps; and elements by decided values. */
interface Walked {
  readonly steps: Uint16Array[];
  readonly chosen: ChosenElement[][];
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
  const all = target.kind === "stage" ? target.values : [];
  const space = graph.plan.tasks[task]!.space;
  // A decided variable's values are known only when its producer has run: any value may be one (checked then).
  const decidedVars = space.dynamic?.vars ?? [];
  const decided = all.filter(([variable]) => decidedVars.includes(variable)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const values = all.filter(([variable]) => !decidedVars.includes(variable));
  for (const [variable, value] of values) {
    const v = space.vars.find((x) => x.name === variable);
    const base = { option, text, stage: graph.plan.tasks[task]!.steps[step]!.stage, variable };
    if (v === undefined)
      return { ok: false, problem: { kind: "unknown-variable", ...base, variables: [...space.vars.map((x) => x.name), ...decidedVars] } };
    if (!hasValue(v, value)) return { ok: false, problem: { kind: "unknown-value", ...base, value, values: someValues(v) } };
  }
  const seeds: Seed[] = [];
  graph.spaces[task]!.forEach((bindings, element) => {
    if (values.every(([variable, value]) => String(bindings.get(variable)?.value) === value))
      seeds.push({ task, element, steps: step + 1, ...(decided.length > 0 ? { values: decided, target: text } : {}) });
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

/**
 * Element-wise minimum of two selections (each closed upstream, so their
 * intersection is too). Elements chosen by decided values on one side run
 * as far as the other side runs their block, or the same (or fewer) values.
 */
function intersect(a: Walked, b: Walked): Walked {
  const steps = a.steps.map((x, t) => x.map((v, e) => Math.min(v, b.steps[t]![e]!)));
  const covered = (c: ChosenElement, other: Walked, t: number) =>
    Math.max(
      other.steps[t]![c.block]!,
      ...other.chosen[t]!.filter(
        (o) => o.block === c.block && o.values.every(([n, v]) => c.values.some(([m, w]) => m === n && w === v)),
      ).map((o) => o.steps),
    );
  const chosen = a.chosen.map((list, t) =>
    [...list.map((c) => ({ c, other: b })), ...b.chosen[t]!.map((c) => ({ c, other: a }))]
      .map(({ c, other }) => ({ ...c, steps: Math.min(c.steps, covered(c, other, t)) }))
      .filter((c) => c.steps > 0),
  );
  return { steps, chosen };
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
  /** Per task and variables: its elements (a dynamic task's blocks) by their values, built once (dynamic tasks' edges). */
  readonly #keyIndex = new Map<string, Map<string, number[]>>();
  /** Per task: whether its space is dynamic (issue 14). */
  readonly #dynamic: boolean[];

  constructor(readonly plan: Plan) {
    this.spaces = plan.tasks.map((t) => new ElementSpace(t.space));
    this.#index = new Map(plan.tasks.map((t, i) => [t.id, i]));
    this.#dynamic = plan.tasks.map((t) => t.space.dynamic !== undefined);
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
          const holes = this.#holes(task, step, output.template);
          if (holes.length > 0) {
            // An output a job's decided values name (issue 14): matched as a pattern, per block.
            this.spaces[t]!.forEach((bindings, element) => {
              const pattern = decidedPattern(output.template, bindings, (name) => this.plan.params[name], holes);
              for (const path of wanted) {
                const row = pattern === undefined ? undefined : matchDecided(pattern, path);
                if (row === undefined) continue;
                const values = holes.map((h, k) => [h, row[k]!] as const).sort(([x], [y]) => (x < y ? -1 : 1));
                // A pattern output of the producer itself: its element, which decides whether it writes the file.
                if (task.space.dynamic === undefined)
                  seeds.push({ task: t, element, steps: s + 1, target: path, expects: { step: step.stage, values } });
                else seeds.push({ task: t, element, steps: s + 1, values, target: path });
              }
            });
            continue;
          }
          this.spaces[t]!.forEach((bindings, element) => {
            const path = expandPath(output.template, bindings, (name) => this.plan.params[name]);
            if (path !== undefined && wanted.has(posix.normalize(path))) seeds.push({ task: t, element, steps: s + 1 });
          });
        }
      });
    });
    return seeds;
  }

  /** The decided variables (a dynamic task's, or a static producer step's own) that an output template names. */
  #holes(task: PlanTask, step: PlanStep, template: readonly Part[]): string[] {
    const decided = task.space.dynamic?.vars ?? step.decides ?? [];
    if (decided.length === 0) return [];
    const named = new Set(template.flatMap((p) => (typeof p !== "string" && "var" in p ? [p.var] : [])));
    return [...new Set(decided.filter((v) => named.has(v)))];
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
  upstream(seeds: readonly Seed[]): Walked {
    const steps = this.plan.tasks.map((t) => new Uint16Array(t.space.size));
    const chosen = this.plan.tasks.map(() => new Map<string, ChosenElement>());
    const work: Seed[] = [...seeds];
    const gathered = new Map<PlanDep, number>();
    for (let next = work.pop(); next !== undefined; next = work.pop()) {
      const { task: t, element: e, steps: want, values } = next;
      let had = steps[t]![e]!;
      if (values === undefined) {
        if (want <= had) continue;
        steps[t]![e] = want;
      } else {
        // Some elements of a block (by decided values): kept even when the whole block runs, so the run checks they come.
        const key = `${e}\u0000${JSON.stringify(values)}`;
        const before = chosen[t]!.get(key);
        chosen[t]!.set(key, {
          block: e,
          values,
          steps: Math.max(want, before?.steps ?? 0),
          target: before?.target ?? next.target,
        });
        had = Math.max(had, before?.steps ?? 0);
        if (want <= had) continue;
      }
      const task = this.plan.tasks[t]!;
      for (const dep of task.deps) {
        // An element exists only once its producer element has run: whatever step reads it, it needs the expansion.
        const feeds =
          dep.input === null || dep.edge.kind === "expand"
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
        if (!this.#dynamic[t] && !this.#dynamic[p])
          for (const k of this.producers(dep.edge, p, t, e)) work.push({ task: p, element: k, steps: producerSteps });
        else for (const item of this.#around(dep, p, t, e, values)) work.push({ ...item, steps: producerSteps });
      }
    }
    return { steps, chosen: chosen.map((m) => [...m.values()]) };
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
        const generic = this.#dynamic[c]! || this.#dynamic[p]!;
        for (let j = 0; j < task.space.size; j++) {
          const producers = generic ? this.#around(dep, p, c, j, undefined).map((item) => item.element) : this.producers(dep.edge, p, c, j);
          for (const k of producers) {
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

  /**
   * How many of the producer's steps must run for `dep`: up to the last
   * step that writes the input it feeds (all for `after`); for an `expand`
   * edge, at least up to the step that decides the consumer's elements.
   */
  #producerSteps(consumer: PlanTask, dep: PlanDep, p: number): number {
    const producer = this.plan.tasks[p]!;
    const from = consumer.space.dynamic?.from;
    if (dep.edge.kind === "expand" && from !== undefined && from.task === producer.id) {
      const decides = producer.steps.findIndex((s) => s.stage === from.step);
      const reads = this.#producerSteps(consumer, { ...dep, edge: { kind: "all" } }, p);
      return decides === -1 ? producer.steps.length : Math.max(decides + 1, dep.input === null ? decides + 1 : reads);
    }
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
        // Never reached: an `expand` edge has a dynamic consumer, whose edges `#around` follows.
        return;
      default:
        unreachable(edge);
    }
  }

  /**
   * What element `j` of consumer `c` (a block, when `c` is dynamic; with
   * decided `values` when only some of its elements) needs of producer `p`
   * through `dep`, when either is dynamic: elements of a static producer,
   * blocks of a dynamic one (with the decided values the edge fixes). A
   * value not known before the run (a decided variable of `c` the target
   * does not give) matches any: more is selected, never less.
   */
  #around(dep: PlanDep, p: number, c: number, j: number, values: Values | undefined): Omit<Seed, "steps">[] {
    const edge = dep.edge;
    const dynamic = this.plan.tasks[c]!.space.dynamic;
    const known = (name: string): string | undefined =>
      dynamic?.vars.includes(name) === true ? values?.find(([n]) => n === name)?.[1] : this.spaces[c]!.value(j, name);
    const all = () => Array.from({ length: this.plan.tasks[p]!.space.size }, (_, k) => ({ task: p, element: k }));
    switch (edge.kind) {
      case "all":
      case "map":
        return all();
      case "one-to-one":
        // Equal spaces: the same block, the same decided values.
        return this.#dynamic[p] && dynamic !== undefined ? [{ task: p, element: j, ...(values ? { values } : {}) }] : all();
      case "expand":
        return dynamic === undefined
          ? all()
          : this.#lookup(
              p,
              dynamic.per.flatMap((v) => pair(v, known(v))),
            );
      case "match": {
        for (const [v, x] of Object.entries(edge.when)) {
          const k = known(v);
          if (k !== undefined && k !== x) return [];
        }
        return this.#lookup(p, [...edge.on.flatMap(([a, b]) => pair(a, known(b))), ...Object.entries(edge.where)]);
      }
      default:
        return unreachable(edge);
    }
  }

  /** Producer `p`'s elements (blocks) whose variables have these values; a dynamic producer's decided ones become the items' `values`. */
  #lookup(p: number, wanted: readonly (readonly [string, string])[]): Omit<Seed, "steps">[] {
    const decidedVars = this.plan.tasks[p]!.space.dynamic?.vars ?? [];
    const fixed = new Map<string, string>();
    for (const [v, x] of wanted) {
      if (fixed.has(v) && fixed.get(v) !== x) return [];
      fixed.set(v, x);
    }
    const decided = [...fixed].filter(([v]) => decidedVars.includes(v)).sort(([a], [b]) => (a < b ? -1 : 1));
    const vars = [...fixed.keys()].filter((v) => !decidedVars.includes(v)).sort();
    const cacheKey = `${p}\u0000${vars.join("\u0000")}`;
    let index = this.#keyIndex.get(cacheKey);
    if (index === undefined) {
      index = new Map();
      for (let k = 0; k < this.plan.tasks[p]!.space.size; k++) {
        const key = vars.map((v) => this.spaces[p]!.value(k, v) ?? "").join("\u0000");
        const list = index.get(key);
        if (list) list.push(k);
        else index.set(key, [k]);
      }
      this.#keyIndex.set(cacheKey, index);
    }
    const list = index.get(vars.map((v) => fixed.get(v)!).join("\u0000")) ?? [];
    return list.map((k) => ({ task: p, element: k, ...(decided.length > 0 ? { values: decided } : {}) }));
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

/** `[name, value]` when the value is known, else nothing. */
function pair(name: string, value: string | undefined): (readonly [string, string])[] {
  return value === undefined ? [] : [[name, value]];
}

function stripDot(head: string): string {
  return head.startsWith("./") ? head.slice(2) : head;
}
