import type { ElementEdge, Part, Plan, PlanEnvironment, PlanPath, PlanShell, PlanStep, PlanTask } from "../../contract/plan.js";
import type { Binding } from "../../contract/elements.js";
import { decidedPattern, patternText, type DecidedPattern } from "../../contract/expansion.js";
import { RunElements } from "../scheduler/elements.js";
import { expandPath, paramWords, varText } from "../../contract/template.js";
import { contextsOf, describeUnsafe } from "./command-check.js";
import { globMatcher, walkGlob } from "../../contract/glob.js";
import { describePathProblem, globProblem, outputPathProblem } from "../../contract/paths.js";
import { quoteFor } from "../../contract/shell/quote.js";
import { EdgeReader } from "../../contract/element-edges.js";
import { commandCpus } from "../../contract/cpus.js";
import { describeStep } from "./describe.js";
import { availableParallelism } from "node:os";
import { findStaleInputs, type StaleInputs } from "./stale-inputs.js";

/** What one step runs for one element: everything resolved to strings. */
export interface StepCommand {
  readonly stage: string;
  readonly kind: "shell" | "argv" | "fn";
  /** The shell command (`kind: shell`). */
  readonly command?: string;
  /** The shell that runs it (`kind: shell`). */
  readonly shell?: PlanShell;
  /** The argv (`kind: argv`). */
  readonly argv?: readonly string[];
  /** The module and export (`kind: fn`), the module relative to the workdir. */
  readonly fn?: { readonly module: string; readonly export: string };
  /** Inputs and outputs in declared shape: per declaration, its paths. */
  readonly inputs: readonly ResolvedPath[];
  readonly outputs: readonly ResolvedPath[];
  /** The step's logs (`log`): kept when the job fails, not required to exist. */
  readonly logs: readonly ResolvedPath[];
  readonly env: Readonly<Record<string, string>>;
  /** Variables of the element, for `fn` stages. */
  readonly vars: Readonly<Record<string, string | number | boolean>>;
  /**
   * The command (or argv) with `{cpus}` as the stage declares it, when this
   * machine scales it down: what the step's hash covers (describe.ts), so
   * running on a machine with other cores re-runs nothing.
   */
  readonly declared?: string;
  /** The software the step runs in (issue 15), as the plan gives it; absent when it runs on the host as it is. */
  readonly environment?: PlanEnvironment;
}

export interface ResolvedPath {
  readonly name: string | null;
  /** Its paths; none for a pattern output (`pattern`), whose files its job decides. */
  readonly paths: readonly string[];
  /** An output naming a variable its step decides (issue 14): the pattern its files match, this element's values filled in. */
  readonly pattern?: DecidedPattern;
  /** Whether the declaration gathers (a glob): `fn` stages get a list even for one path. */
  readonly many: boolean;
}

export interface ExpanderOptions {
  /** Stops a glob's walk of the file system (Ctrl-C): `step` then rejects with its reason. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Told once per gathering input fed by producers, the first time one of
   * its elements is expanded, of the files on disk its glob matches that
   * no producer writes in this run (stale-inputs.ts); never looked for without it.
   */
  readonly onStale?: ((stale: StaleInputs) => void) | undefined;
  /** What `{cpus}` stands for in a task's commands (contract/cpus.ts); default: its `cpus`, at most this machine's cores. */
  readonly cpus?: (task: PlanTask) => number;
  /** The run's elements (a dynamic task's grow as it runs); default: the plan's. */
  readonly elements?: RunElements;
  /**
   * Walks a glob under the workdir, sorted (contract/glob.ts walkGlob): a
   * run's walks go through its Mtimes, which records them (run/memo.ts).
   */
  readonly walk?: (pattern: string, signal: AbortSignal | undefined) => Promise<string[]>;
}

/**
 * A job wfc will not start: an output outside the workflow's folder, a glob
 * that would search outside it. A compiled plan never has one (validation
 * refuses them); a hand-edited one may.
 */
export class UnsafePathError extends Error {}

/**
 * Turns plan templates into concrete commands for one element. Gathered
 * inputs (globs) come from the producers' outputs for the elements this one
 * depends on, or from the file system when no stage produces them.
 */
export class Expander {
  readonly #elements: RunElements;
  readonly #index: Map<string, number>;
  /** Which producer elements each consumer element waits for; its match indexes grow with a dynamic producer. */
  readonly #edges = new EdgeReader();
  /** Gathering inputs already looked at for files they leave out (by task, stage and input), each looked at once. */
  readonly #staleChecked = new Map<string, Promise<void>>();

  readonly #signal: AbortSignal | undefined;
  readonly #walk: (pattern: string) => Promise<string[]>;
  readonly #onStale: ((stale: StaleInputs) => void) | undefined;
  /** Per task, what `{cpus}` stands for. */
  readonly #cpus: number[];

  constructor(
    private readonly plan: Plan,
    private readonly workdir: string,
    options: ExpanderOptions = {},
  ) {
    this.#elements = options.elements ?? new RunElements(plan);
    this.#index = new Map(plan.tasks.map((t, i) => [t.id, i]));
    this.#signal = options.signal;
    const walk = options.walk ?? ((pattern, signal) => walkGlob(pattern, this.workdir, signal));
    this.#walk = (pattern) => walk(pattern, this.#signal);
    this.#onStale = options.onStale;
    const cpus = options.cpus ?? ((task: PlanTask) => commandCpus(task, { cores: availableParallelism() }));
    this.#cpus = plan.tasks.map((t) => cpus(t));
  }

  /** Element `element`'s identity (contract/identity.ts). */
  identity(task: number, element: number): string {
    return this.#elements.of(task).identity(element);
  }

  /**
   * The paths alone of a step without glob inputs, as `step` resolves
   * them: what an up-to-date check reads when the journal vouches for the
   * command (freshness.ts), at a fraction of the cost of building it.
   */
  paths(task: number, step: PlanStep, element: number): { inputs: ResolvedPath[]; outputs: ResolvedPath[] } {
    const bindings = this.#elements.of(task).bindings(element);
    const plain = (parts: readonly Part[]) => pathText(this.plan, step, parts, bindings, element);
    const inputs = step.inputs.map((i): ResolvedPath => {
      if (i.glob) throw new Error(`step \`${step.stage}\`: paths() of a step with a glob input`);
      return { name: i.name, paths: [plain(i.template)], many: false };
    });
    return { inputs, outputs: this.#outputs(step, bindings, plain) };
  }

  async step(task: number, step: PlanStep, element: number): Promise<StepCommand> {
    const space = this.#elements.of(task);
    const bindings = space.bindings(element);
    const value = (p: Extract<Part, { var: string }>) => varText(bindings, p.var, p.field) ?? "";
    const param = (p: Extract<Part, { param: string }>) => paramWordsOf(this.plan, p.param);
    const plain = (parts: readonly Part[]) => pathText(this.plan, step, parts, bindings, element);
    const outputs = this.#outputs(step, bindings, plain);
    const logs: ResolvedPath[] = (step.logs ?? []).map((o) => ({ name: o.name, paths: [plain(o.template)], many: false }));
    // wfc makes the outputs' (and logs') folders and removes the outputs after a failure: only inside the workflow's folder.
    for (const [what, list] of [
      ["output", outputs],
      ["log", logs],
    ] as const) {
      for (const o of list) {
        // A pattern output (issue 14) is listed, and its files removed after a failure: its text, holes as they are
        // written, must stay inside too (a hole never matches `/` or a leading `.`, so it cannot climb out).
        const path = o.pattern !== undefined ? patternText(o.pattern) : o.paths[0]!;
        const problem = outputPathProblem(path);
        if (problem !== undefined)
          throw new UnsafePathError(
            `${what} ${JSON.stringify(path)} of stage \`${step.stage}\` ${describePathProblem(problem)}: outputs must stay inside the workflow's folder`,
          );
      }
    }
    const inputs: ResolvedPath[] = [];
    for (const [n, i] of step.inputs.entries()) {
      if (i.glob && i.from.length > 0) await this.#checkStale(task, step, n);
      inputs.push(await this.#input(task, element, i, plain(i.template)));
    }

    const refPaths = (p: Exclude<Part, string | { cpus: true }>): string[] => {
      const list = "inputs" in p ? inputs : "outputs" in p ? outputs : "log" in p ? logs : [];
      const name = "inputs" in p || "outputs" in p || "log" in p ? p.name : undefined;
      return list.filter((x) => name === undefined || x.name === name).flatMap((x) => x.paths);
    };
    let cpus = this.#cpus[task]!;
    /** What a placeholder stands for: one word for a variable, one per path or list item for the others. */
    const words = (p: Exclude<Part, string>): readonly string[] =>
      "var" in p ? [value(p)] : "param" in p ? param(p) : "cpus" in p ? [String(cpus)] : refPaths(p);
    const text = (p: Part) => (typeof p === "string" ? p : words(p).join(" "));
    const shell = (parts: readonly Part[]) => {
      const contexts = contextsOf(parts);
      let hole = 0;
      return parts
        .map((p) => {
          if (typeof p === "string") return p;
          const context = contexts[hole++]!;
          if (context.kind === "unsafe") throw new Error(`step \`${step.stage}\`: ${describeUnsafe(p, context)}`);
          return quoteFor(context.kind, words(p));
        })
        .join("");
    };
    const env: Record<string, string> = {};
    for (const [k, parts] of Object.entries(step.env)) env[k] = parts.map(text).join("");
    const vars: Record<string, string | number | boolean> = {};
    for (const [k, b] of bindings) vars[k] = b.value;
    const base = { stage: step.stage, inputs, outputs, logs, env, vars, ...(step.environment ? { environment: step.environment } : {}) };

    const action = step.action;
    const argv = (list: readonly (readonly Part[])[]) =>
      list.flatMap((parts) => {
        // A placeholder that is a whole item expands to one item per path.
        const only = parts.length === 1 ? parts[0]! : undefined;
        if (only !== undefined && typeof only !== "string" && !("var" in only) && !("cpus" in only)) return words(only);
        return [parts.map(text).join("")];
      });
    // `{cpus}` scaled down to this machine is not what the step asks for: its hash takes the stage's own `cpus`.
    const declared = this.plan.tasks[task]!.resources.cpus;
    const scaled = cpus !== declared && action.kind !== "fn" && usesCpus(action.kind === "shell" ? [action.command] : action.argv);
    const asDeclared = (build: () => string): { declared?: string } => {
      if (!scaled) return {};
      const now = cpus;
      cpus = declared;
      try {
        return { declared: build() };
      } finally {
        cpus = now;
      }
    };
    switch (action.kind) {
      case "shell":
        return { ...base, kind: "shell", command: shell(action.command), shell: action.shell, ...asDeclared(() => shell(action.command)) };
      case "argv":
        return {
          ...base,
          kind: "argv",
          argv: argv(action.argv),
          ...asDeclared(() => describeStep({ ...base, kind: "argv", argv: argv(action.argv) })),
        };
      case "fn":
        return { ...base, kind: "fn", fn: { module: action.module, export: action.export } };
    }
  }

  /** A step's outputs for an element: a path each, or a pattern for one naming a variable the step decides. */
  #outputs(step: PlanStep, bindings: ReadonlyMap<string, Binding>, plain: (parts: readonly Part[]) => string): ResolvedPath[] {
    return step.outputs.map((o) => {
      const pattern = this.#pattern(step, o.template, bindings);
      return pattern === undefined
        ? { name: o.name, paths: [plain(o.template)], many: false }
        : { name: o.name, paths: [], many: true, pattern };
    });
  }

  /** An output's pattern when it names a variable its step decides, for these values; else undefined. */
  #pattern(step: PlanStep, template: readonly Part[], bindings: ReadonlyMap<string, Binding>): DecidedPattern | undefined {
    const decides = step.decides;
    if (decides === undefined || !template.some((p) => typeof p !== "string" && "var" in p && decides.includes(p.var))) return undefined;
    const pattern = decidedPattern(template, bindings, (name) => this.plan.params[name], decides);
    if (pattern === undefined) throw new Error(`step \`${step.stage}\`: an output pattern has a placeholder with no value`);
    return pattern;
  }

  /** Looks once per gathering input (its first element waits for it, as do those expanded meanwhile). */
  #checkStale(task: number, step: PlanStep, index: number): Promise<void> {
    if (this.#onStale === undefined) return Promise.resolve();
    const key = `${task}\0${step.stage}\0${index}`;
    let checked = this.#staleChecked.get(key);
    if (checked === undefined) {
      const report = this.#onStale;
      const spaces = this.plan.tasks.map((_, t) => this.#elements.of(t));
      checked = findStaleInputs(this.plan, spaces, this.#index, task, step, index, this.#walk).then((stale) => {
        if (stale !== undefined) report(stale);
      });
      this.#staleChecked.set(key, checked);
    }
    return checked;
  }

  /** The producer elements element `j` of the consumer depends on, through any of the edges. */
  *#producerElements(edges: readonly ElementEdge[], j: number, p: number, c: number): Generator<number> {
    const ps = this.#elements.of(p);
    const cs = this.#elements.of(c);
    const per = this.plan.tasks[c]!.space.dynamic?.per ?? [];
    for (const edge of edges) yield* this.#edges.producerElements(edge, j, ps, cs, per);
  }

  async #input(task: number, element: number, input: PlanPath, expanded: string): Promise<ResolvedPath> {
    if (!input.glob) return { name: input.name, paths: [expanded], many: false };
    if (input.from.length === 0) {
      const problem = globProblem(expanded);
      if (problem !== undefined)
        throw new UnsafePathError(
          `input glob ${JSON.stringify(expanded)} ${describePathProblem(problem)}: globs search only inside the workflow's folder`,
        );
      const found = await this.#walk(expanded);
      return { name: input.name, paths: found, many: true };
    }
    const matches = globMatcher(expanded);
    const paths = new Set<string>();
    const consumer = this.plan.tasks[task]!;
    for (const from of input.from) {
      const p = this.#index.get(from.task)!;
      const producer = this.plan.tasks[p]!;
      const step = producer.steps.find((s) => s.stage === from.step)!;
      const template = step.outputs[from.output]!.template;
      // A step fused into this task writes for this same element; the task has no dep edge to itself.
      const edges: readonly ElementEdge[] =
        p === task ? [{ kind: "one-to-one" }] : consumer.deps.filter((d) => d.task === from.task).map((d) => d.edge);
      const ps = this.#elements.of(p);
      const decided =
        step.decides !== undefined && template.some((x) => typeof x !== "string" && "var" in x && step.decides!.includes(x.var));
      for (const k of this.#producerElements(edges, element, p, task)) {
        const bindings = ps.bindings(k);
        // A pattern output: the files this producer element decided (issue 14).
        const rows = decided ? (this.#elements.decided(p, k, step.stage) ?? []) : [undefined];
        for (const row of rows) {
          if (row !== undefined) step.decides!.forEach((v, i) => bindings.set(v, { value: row[i]! }));
          const path = pathText(this.plan, step, template, bindings, k);
          if (matches(path)) paths.add(path);
        }
      }
    }
    return { name: input.name, paths: [...paths].sort(), many: true };
  }
}

/** Whether any of these templates has a `{cpus}`. */
function usesCpus(templates: readonly (readonly Part[])[]): boolean {
  return templates.some((parts) => parts.some((p) => typeof p !== "string" && "cpus" in p));
}

/**
 * A path for one element. A loaded plan names only variables its space has
 * and no param in a path (check-plan.ts, command-check.ts), so every path
 * expands: one that cannot is a bug, never an empty placeholder.
 */
function pathText(plan: Plan, step: PlanStep, parts: readonly Part[], bindings: ReadonlyMap<string, Binding>, element: number): string {
  const path = expandPath(parts, bindings, (name) => plan.params[name]);
  if (path === undefined) throw new Error(`step \`${step.stage}\`: a path has a placeholder with no value for element ${element}`);
  return path;
}

/** A param's value as words (contract/template.ts), for a plan that defines it. */
function paramWordsOf(plan: Plan, name: string): string[] {
  const value = plan.params[name];
  if (value === undefined) throw new Error(`the plan has no param \`${name}\``);
  return paramWords(value);
}
