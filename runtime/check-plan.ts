import { MAX_STAGE_ELEMENTS, MAX_TIMEOUT_SECONDS, MAX_WORKFLOW_ELEMENTS, grouped } from "../contract/limits.js";
import type { ElementEdge, IndexSpace, Part, Plan, PlanTask } from "../contract/plan.js";
import { spaceSize, varSize } from "../contract/elements.js";

/**
 * What a plan could lie about that the schema cannot see and that would
 * make a run crash, hang or silently do part of the work: an index space
 * whose `size` is not what its variables make, `jobs` that do not cover
 * it, element edges that point outside the producer, templates naming
 * variables or inputs the task does not have, a dependency cycle. The
 * compiler never writes such a plan; a hand-edited or corrupted one must
 * be refused before the first job starts. Returns the first problem in
 * words (naming the task), or undefined.
 *
 * Linear in the plan's size: each var, row, template part and map entry is
 * looked at once or twice, so a plan with a million-entry map loads fast.
 */
export function planInconsistency(plan: Plan): string | undefined {
  const byId = new Map(plan.tasks.map((t) => [t.id, t]));
  const keys = new Map<string, Set<string>>();
  let total = 0;
  const stages = new Set<string>();
  for (const task of plan.tasks) {
    const problem = spaceProblem(task);
    if (problem !== undefined) return `task \`${task.id}\`: ${problem}`;
    total += task.space.size;
    if (total > MAX_WORKFLOW_ELEMENTS) {
      return `task \`${task.id}\`: the tasks up to it have ${grouped(total)} elements, more than the ${grouped(MAX_WORKFLOW_ELEMENTS)} a plan can have`;
    }
    keys.set(task.id, spaceKeys(task.space));
    for (const stage of task.stages) {
      if (stages.has(stage)) return `task \`${task.id}\`: stage \`${stage}\` belongs to two tasks`;
      stages.add(stage);
    }
  }
  for (const task of plan.tasks) {
    const problem =
      jobsProblem(task) ??
      dynamicProblem(task, byId) ??
      stepsProblem(task, keys.get(task.id)!, byId) ??
      environmentProblem(task, plan) ??
      depsProblem(task, keys, byId);
    if (problem !== undefined) return `task \`${task.id}\`: ${problem}`;
  }
  return cycle(plan.tasks);
}

/** The variables' own shape, then `size` against what they make. */
function spaceProblem(task: PlanTask): string | undefined {
  const { vars, zip, size } = task.space;
  const names = new Set<string>();
  for (const v of vars) {
    if (names.has(v.name)) return `variable \`${v.name}\` appears twice in its space`;
    names.add(v.name);
    if ("range" in v) {
      if (!v.range.every(Number.isSafeInteger)) return `the range of \`${v.name}\` has a bound beyond 2^53`;
      if (v.range[2] === 0) return `the range of \`${v.name}\` has a step of 0`;
    }
    if ("sheet" in v) {
      const { columns, key, rows } = v.sheet;
      if (new Set(columns).size !== columns.length) return `the sheet of \`${v.name}\` has a column twice`;
      if (!columns.includes(key)) return `the sheet of \`${v.name}\` has no key column \`${key}\``;
      const short = rows.findIndex((r) => r.length !== columns.length);
      if (short !== -1)
        return `row ${short + 1} of the sheet of \`${v.name}\` has ${rows[short]!.length} cells for ${columns.length} columns`;
    }
    const n = varSize(v);
    if (n > MAX_STAGE_ELEMENTS)
      return `\`${v.name}\` has ${grouped(n)} values, more than the ${grouped(MAX_STAGE_ELEMENTS)} a task can have`;
  }
  let zipped: number | undefined;
  for (const name of zip) {
    const v = vars.find((x) => x.name === name);
    if (v === undefined) return `\`zip\` names \`${name}\`, which is not a variable of its space`;
    if (zip.indexOf(name) !== zip.lastIndexOf(name)) return `\`zip\` names \`${name}\` twice`;
    const n = varSize(v);
    if (zipped !== undefined && n !== zipped) return `zipped variable \`${name}\` has ${n} values, not ${zipped} like the first`;
    zipped = n;
  }
  const expected = spaceSize(vars, zip, varSize);
  if (expected > MAX_STAGE_ELEMENTS)
    return `its space has ${grouped(expected)} elements, more than the ${grouped(MAX_STAGE_ELEMENTS)} a task can have`;
  if (size !== expected) return `its space says \`size\` ${size}, but its variables make ${expected} elements`;
  return undefined;
}

function jobsProblem(task: PlanTask): string | undefined {
  const jobs = Math.ceil(task.space.size / task.batch);
  if (task.space.dynamic !== undefined) {
    // Its jobs are known only as it runs: one element a job.
    if (task.jobs !== null || task.batch !== 1) return "a dynamic space's task has `jobs` null and `batch` 1";
  } else if (task.jobs !== jobs)
    return `\`jobs\` is ${task.jobs}, but ${task.space.size} elements in batches of ${task.batch} make ${jobs}`;
  if (task.timeout !== null && !(task.timeout > 0 && task.timeout <= MAX_TIMEOUT_SECONDS)) {
    return `\`timeout\` ${task.timeout} s is not above 0 and at most ${MAX_TIMEOUT_SECONDS} s`;
  }
  return undefined;
}

/**
 * A dynamic space (issue 14): its variables are new, `per` are its own, its
 * source is a step's output it depends on through an `expand` edge, and a
 * `files` source's step decides every one of its variables.
 */
function dynamicProblem(task: PlanTask, byId: ReadonlyMap<string, PlanTask>): string | undefined {
  for (const step of task.steps) {
    const decides = step.decides ?? [];
    for (const v of decides) {
      if (task.space.vars.some((x) => x.name === v) || task.space.dynamic?.vars.includes(v))
        return `step \`${step.stage}\` decides \`${v}\`, which its space has already`;
      if (!step.outputs.some((o) => o.template.some((p) => typeof p !== "string" && "var" in p && p.var === v)))
        return `step \`${step.stage}\` decides \`${v}\`, which none of its outputs names`;
    }
  }
  const dyn = task.space.dynamic;
  const expands = task.deps.filter((d) => d.edge.kind === "expand");
  if (dyn === undefined) return expands.length > 0 ? "has an `expand` edge, but its space is not dynamic" : undefined;
  const names = new Set(task.space.vars.map((v) => v.name));
  for (const v of dyn.vars)
    if (names.has(v) || dyn.vars.indexOf(v) !== dyn.vars.lastIndexOf(v)) return `its dynamic variable \`${v}\` appears twice`;
  for (const v of dyn.per) if (!names.has(v)) return `its dynamic space is per \`${v}\`, which is not one of its variables`;
  if (dyn.from.kind === "lines" && dyn.vars.length !== 1) return "a `lines` space has exactly one variable";
  const producer = byId.get(dyn.from.task);
  const step = producer?.steps.find((s) => s.stage === dyn.from.step);
  if (producer === undefined || step?.outputs[dyn.from.output] === undefined)
    return `its dynamic space comes from output ${dyn.from.output} of step \`${dyn.from.step}\` of task \`${dyn.from.task}\`, which does not exist`;
  if (expands.length !== 1 || expands[0]!.task !== producer.id)
    return `its dynamic space comes from task \`${producer.id}\`, which needs its one \`expand\` edge`;
  const producerVars = new Set([...producer.space.vars.map((v) => v.name), ...(producer.space.dynamic?.vars ?? [])]);
  for (const v of dyn.per)
    if (!producerVars.has(v)) return `its dynamic space is per \`${v}\`, which task \`${producer.id}\` does not have`;
  if (dyn.from.kind === "files") {
    const decides = step.decides ?? [];
    for (const v of dyn.vars) if (!decides.includes(v)) return `its variable \`${v}\` is not one step \`${step.stage}\` decides`;
  }
  return undefined;
}

/** What `{var}` and `{var.column}` may name in a task: its variables, and its sheets' columns. */
function spaceKeys(space: IndexSpace): Set<string> {
  const out = new Set<string>(space.dynamic?.vars ?? []);
  for (const v of space.vars) {
    out.add(v.name);
    if ("sheet" in v) for (const c of v.sheet.columns) out.add(`${v.name}.${c}`);
  }
  return out;
}

function stepsProblem(task: PlanTask, keys: ReadonlySet<string>, byId: ReadonlyMap<string, PlanTask>): string | undefined {
  const producers = new Set([task.id, ...task.deps.map((d) => d.task)]);
  for (const step of task.steps) {
    const inputs = new Set(step.inputs.map((i) => i.name));
    const outputs = new Set(step.outputs.map((o) => o.name));
    const logs = new Set((step.logs ?? []).map((o) => o.name));
    const decided = new Set(step.decides ?? []);
    const partProblem = (part: Part, where: string, paths: boolean): string | undefined => {
      if (typeof part === "string") return undefined;
      if ("var" in part) {
        const key = part.field === undefined ? part.var : `${part.var}.${part.field}`;
        // A decided variable stands only in outputs, as a pattern's hole.
        if (part.field === undefined && decided.has(key) && where.startsWith("output ")) return undefined;
        return keys.has(key) ? undefined : `${where} of step \`${step.stage}\` uses \`{${key}}\`, which its space does not have`;
      }
      // Where a param may stand and whether it is defined is jobs/command-check.ts's to say.
      if ("param" in part) return undefined;
      // The cpus are known only where the job runs: a path must be the same wherever that is.
      if ("cpus" in part) return paths ? `${where} of step \`${step.stage}\` uses \`{cpus}\`, which a path cannot` : undefined;
      const kind = "inputs" in part ? "inputs" : "outputs" in part ? "outputs" : "log";
      if (paths) return `${where} of step \`${step.stage}\` uses \`{${kind}}\`, which a path cannot`;
      if (part.name !== undefined && !{ inputs, outputs, log: logs }[kind].has(part.name))
        return `${where} of step \`${step.stage}\` uses \`{${kind}.${part.name}}\`, which the step does not have`;
      return undefined;
    };
    const templates: [readonly Part[], string, boolean][] = [
      ...step.inputs.map((p, i): [readonly Part[], string, boolean] => [p.template, `input ${i}`, true]),
      ...step.outputs.map((p, i): [readonly Part[], string, boolean] => [p.template, `output ${i}`, true]),
      ...(step.logs ?? []).map((p, i): [readonly Part[], string, boolean] => [p.template, `log ${i}`, true]),
      ...Object.entries(step.env).map(([k, t]): [readonly Part[], string, boolean] => [t, `env \`${k}\``, false]),
    ];
    const action = step.action;
    if (action.kind === "shell") templates.push([action.command, "the command", false]);
    else if (action.kind === "argv") action.argv.forEach((t, i) => templates.push([t, `argument ${i}`, false]));
    for (const [parts, where, paths] of templates) {
      for (const part of parts) {
        const problem = partProblem(part, where, paths);
        if (problem !== undefined) return problem;
      }
    }
    for (const [i, input] of step.inputs.entries()) {
      for (const from of input.from) {
        const producer = byId.get(from.task);
        const output = producer?.steps.find((s) => s.stage === from.step)?.outputs[from.output];
        if (!producers.has(from.task) || output === undefined) {
          return `input ${i} of step \`${step.stage}\` reads output ${from.output} of step \`${from.step}\` of task \`${from.task}\`, which it does not depend on or which does not exist`;
        }
      }
    }
  }
  return undefined;
}

/**
 * A step's environment against its action and its executor: an `fn` step
 * runs in wfc's own Node worker and would silently ignore one; a container
 * or conda environment needs the executor's engine for it, or the step
 * would run on the host as it is.
 */
function environmentProblem(task: PlanTask, plan: Plan): string | undefined {
  const engines = plan.executors[task.executor]?.engines;
  for (const step of task.steps) {
    const environment = step.environment;
    if (environment === undefined) continue;
    if (step.action.kind === "fn") return `step \`${step.stage}\` is an \`fn\` step with an environment, which it cannot run in`;
    if (environment.container !== undefined && engines?.container === undefined)
      return `step \`${step.stage}\` has a container, but its executor \`${task.executor}\` has no container engine (\`engines.container\`)`;
    if (environment.conda !== undefined && engines?.conda === undefined)
      return `step \`${step.stage}\` has a conda environment, but its executor \`${task.executor}\` has no conda frontend (\`engines.conda\`)`;
  }
  return undefined;
}

function depsProblem(
  task: PlanTask,
  keys: ReadonlyMap<string, ReadonlySet<string>>,
  byId: ReadonlyMap<string, PlanTask>,
): string | undefined {
  for (const dep of task.deps) {
    const producer = byId.get(dep.task)!; // brokenReference checked it exists
    const problem = edgeProblem(dep.edge, producer, task, keys.get(producer.id)!, keys.get(task.id)!);
    if (problem !== undefined) return `its ${dep.edge.kind} edge from task \`${producer.id}\` ${problem}`;
  }
  return undefined;
}

function edgeProblem(
  edge: ElementEdge,
  producer: PlanTask,
  consumer: PlanTask,
  producerKeys: ReadonlySet<string>,
  consumerKeys: ReadonlySet<string>,
): string | undefined {
  const p = producer.space.size;
  const c = consumer.space.size;
  const pd = producer.space.dynamic;
  const cd = consumer.space.dynamic;
  switch (edge.kind) {
    case "all":
      return undefined;
    case "expand":
      return cd !== undefined && cd.from.task === producer.id ? undefined : "is not where this task's dynamic space comes from";
    case "one-to-one":
      if ((pd === undefined) !== (cd === undefined) || JSON.stringify(pd) !== JSON.stringify(cd))
        return "joins a dynamic space to another space, which one-to-one cannot";
      return p === c ? undefined : `joins ${p} elements to ${c}`;
    case "match": {
      for (const [a, b] of edge.on) {
        if (!producerKeys.has(a)) return `matches on \`${a}\`, which task \`${producer.id}\` does not have`;
        if (!consumerKeys.has(b)) return `matches on \`${b}\`, which this task does not have`;
      }
      for (const a of Object.keys(edge.where))
        if (!producerKeys.has(a)) return `has \`where\` \`${a}\`, which task \`${producer.id}\` does not have`;
      for (const b of Object.keys(edge.when)) if (!consumerKeys.has(b)) return `has \`when\` \`${b}\`, which this task does not have`;
      return undefined;
    }
    case "map": {
      if (pd !== undefined || cd !== undefined) return "joins a dynamic space, whose elements are not known before the run";
      const { offsets, indices } = edge;
      if (offsets.length !== c + 1) return `has ${offsets.length} offsets for ${c} elements (it needs ${c + 1})`;
      if (offsets[0] !== 0) return "does not start at offset 0";
      for (let j = 1; j < offsets.length; j++) {
        if (offsets[j]! < offsets[j - 1]!) return `has offsets that go down at element ${j - 1}`;
      }
      if (offsets[c] !== indices.length) return `ends at offset ${offsets[c]}, but has ${indices.length} indices`;
      for (let x = 0; x < indices.length; x++) {
        if (indices[x]! >= p) return `points at element ${indices[x]} of ${p}`;
      }
      return undefined;
    }
  }
}

/** The first dependency cycle, as a trail, or undefined: Kahn's algorithm, then a walk among what is left. */
function cycle(tasks: readonly PlanTask[]): string | undefined {
  const index = new Map(tasks.map((t, i) => [t.id, i]));
  const waiting = tasks.map((t) => new Set(t.deps.map((d) => d.task)).size);
  const dependents: number[][] = tasks.map(() => []);
  tasks.forEach((t, i) => {
    for (const producer of new Set(t.deps.map((d) => d.task))) dependents[index.get(producer)!]!.push(i);
  });
  const queue = tasks.flatMap((_, i) => (waiting[i] === 0 ? [i] : []));
  for (let head = 0; head < queue.length; head++) {
    for (const d of dependents[queue[head]!]!) if (--waiting[d]! === 0) queue.push(d);
  }
  if (queue.length === tasks.length) return undefined;
  // Every task left waits for another task left: walking back along deps must come round.
  const left = tasks.findIndex((_, i) => waiting[i]! > 0);
  const seen = new Map<number, number>();
  const trail: number[] = [];
  let at = left;
  while (!seen.has(at)) {
    seen.set(at, trail.length);
    trail.push(at);
    at = index.get(tasks[at]!.deps.map((d) => d.task).find((id) => waiting[index.get(id)!]! > 0)!)!;
  }
  // Start the loop at its first task in plan order, so the message does not depend on where the walk began.
  const loop = trail.slice(seen.get(at)!);
  const first = loop.indexOf(Math.min(...loop));
  const ids = [...loop.slice(first), ...loop.slice(0, first), loop[first]!].map((i) => `\`${tasks[i]!.id}\``);
  return `task ${ids[0]} is in a dependency cycle: ${ids.join(" → ")} (each waits for the next)`;
}
