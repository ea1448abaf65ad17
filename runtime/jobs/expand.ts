import type { ElementEdge, Part, Plan, PlanPath, PlanShell, PlanStep, PlanTask } from "../../contract/plan.js";
import { ElementSpace, type Binding } from "../../contract/elements.js";
import { expandPath, paramWords, varText } from "../../contract/template.js";
import { contextsOf, describeUnsafe } from "./command-check.js";
import { globMatcher, walkGlob } from "../../contract/glob.js";
import { describePathProblem, globProblem, outputPathProblem } from "../../contract/paths.js";
import { quoteFor } from "../../contract/shell/quote.js";
import { unreachable } from "../../contract/unreachable.js";
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
}

export interface ResolvedPath {
  readonly name: string | null;
  readonly paths: readonly string[];
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
  readonly #spaces: ElementSpace[];
  readonly #index: Map<string, number>;
  /** Gathering inputs already looked at for files they leave out (by task, stage and input), each looked at once. */
  readonly #staleChecked = new Map<string, Promise<void>>();

  readonly #signal: AbortSignal | undefined;
  readonly #onStale: ((stale: StaleInputs) => void) | undefined;
  /** Per task, what `{cpus}` stands for. */
  readonly #cpus: number[];

  constructor(
    private readonly plan: Plan,
    private readonly workdir: string,
    options: ExpanderOptions = {},
  ) {
    this.#spaces = plan.tasks.map((t) => new ElementSpace(t.space));
    this.#index = new Map(plan.tasks.map((t, i) => [t.id, i]));
    this.#signal = options.signal;
    this.#onStale = options.onStale;
    const cpus = options.cpus ?? ((task: PlanTask) => commandCpus(task, { cores: availableParallelism() }));
    this.#cpus = plan.tasks.map((t) => cpus(t));
  }

  async step(task: number, step: PlanStep, element: number): Promise<StepCommand> {
    const space = this.#spaces[task]!;
    const bindings = space.bindings(element);
    const value = (p: Extract<Part, { var: string }>) => varText(bindings, p.var, p.field) ?? "";
    const param = (p: Extract<Part, { param: string }>) => paramWordsOf(this.plan, p.param);
    const plain = (parts: readonly Part[]) => pathText(this.plan, step, parts, bindings, element);
    const outputs: ResolvedPath[] = step.outputs.map((o) => ({ name: o.name, paths: [plain(o.template)], many: false }));
    const logs: ResolvedPath[] = (step.logs ?? []).map((o) => ({ name: o.name, paths: [plain(o.template)], many: false }));
    // wfc makes the outputs' (and logs') folders and removes the outputs after a failure: only inside the workflow's folder.
    for (const [what, list] of [
      ["output", outputs],
      ["log", logs],
    ] as const) {
      for (const o of list) {
        const problem = outputPathProblem(o.paths[0]!);
        if (problem !== undefined)
          throw new UnsafePathError(
            `${what} ${JSON.stringify(o.paths[0])} of stage \`${step.stage}\` ${describePathProblem(problem)}: outputs must stay inside the workflow's folder`,
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
    const base = { stage: step.stage, inputs, outputs, logs, env, vars };

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

  /** Looks once per gathering input (its first element waits for it, as do those expanded meanwhile). */
  #checkStale(task: number, step: PlanStep, index: number): Promise<void> {
    if (this.#onStale === undefined) return Promise.resolve();
    const key = `${task}\0${step.stage}\0${index}`;
    let checked = this.#staleChecked.get(key);
    if (checked === undefined) {
      const report = this.#onStale;
      checked = findStaleInputs(this.plan, this.#spaces, this.#index, task, step, index, this.workdir, this.#signal).then((stale) => {
        if (stale !== undefined) report(stale);
      });
      this.#staleChecked.set(key, checked);
    }
    return checked;
  }

  async #input(task: number, element: number, input: PlanPath, expanded: string): Promise<ResolvedPath> {
    if (!input.glob) return { name: input.name, paths: [expanded], many: false };
    if (input.from.length === 0) {
      const problem = globProblem(expanded);
      if (problem !== undefined)
        throw new UnsafePathError(
          `input glob ${JSON.stringify(expanded)} ${describePathProblem(problem)}: globs search only inside the workflow's folder`,
        );
      const found = await walkGlob(expanded, this.workdir, this.#signal);
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
      for (const k of producerElements(edges, element, producer, consumer, this.#spaces[p]!, this.#spaces[task]!)) {
        const path = pathText(this.plan, step, template, this.#spaces[p]!.bindings(k), k);
        if (matches(path)) paths.add(path);
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

/** The producer elements element `j` of the consumer depends on, through any of the edges. */
function* producerElements(
  edges: readonly ElementEdge[],
  j: number,
  producer: PlanTask,
  _consumer: PlanTask,
  ps: ElementSpace,
  cs: ElementSpace,
): Generator<number> {
  for (const edge of edges) {
    switch (edge.kind) {
      case "one-to-one":
        yield j;
        break;
      case "all":
        for (let k = 0; k < producer.space.size; k++) yield k;
        break;
      case "map":
        for (let x = edge.offsets[j]!; x < edge.offsets[j + 1]!; x++) yield edge.indices[x]!;
        break;
      case "match": {
        const want = edge.on.map(([, b]) => cs.value(j, b));
        for (let k = 0; k < producer.space.size; k++) {
          if (Object.entries(edge.where).some(([v, x]) => ps.value(k, v) !== x)) continue;
          if (edge.on.every(([a], i) => ps.value(k, a) === want[i])) yield k;
        }
        break;
      }
      case "expand":
        // TODO(issue 14): the producer element this one expanded from.
        break;
      default:
        unreachable(edge);
    }
  }
}
