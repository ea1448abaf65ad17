import type { ElementEdge } from "../plan/element-edges.js";
import type { Plan, PlanGroup, PlanTask } from "../../contract/plan.js";
import { unreachable } from "../../contract/unreachable.js";

/** `1 element`, `2 elements`. */
function count(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

/** Seconds without float noise: 2, 1.5, 0.333. */
function seconds(s: number): string {
  return `${Number(s.toFixed(3))} s`;
}

/** The lines of a task's label (id, size, executor, concurrency groups, priority), with the plan's groups looked up once. */
export function taskLabeller(plan: Plan): (task: PlanTask) => string[] {
  const groups = new Map(plan.groups.map((g) => [g.id, g]));
  return (task) => {
    const lines = [task.id];
    const size = count(task.space.size, "element");
    const dynamic = task.space.dynamic;
    if (dynamic !== undefined)
      lines.push(`${count(task.space.size, "block")}, ${dynamic.vars.join(", ")} expanded after ${dynamic.from.task}`);
    else if (task.jobs === null) lines.push(`${size}, each expanded at run time`);
    else lines.push(task.batch > 1 ? `${size}, ${count(task.jobs, "job")} of ${task.batch}` : size);
    const type = Object.hasOwn(plan.executors, task.executor) ? plan.executors[task.executor]!.type : undefined;
    lines.push(type === undefined || type === task.executor ? `executor ${task.executor}` : `executor ${task.executor} (${type})`);
    for (const { group, weight } of [...task.groups].sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0))) {
      lines.push(groupLine(group, groups.get(group)) + (weight === 1 ? "" : `, weight ${weight}`));
    }
    lines.push(`priority ${seconds(task.priority)}`);
    return lines;
  };
}

/** `limit ftp (3 at once)` for a named limit, `cap 5` for a stage's own cap. */
function groupLine(id: string, group: PlanGroup | undefined): string {
  if (group === undefined) return `group ${id}`;
  if (group.kind === "cap") return `cap ${group.capacity}`;
  const name = id.startsWith("limit:") ? id.slice("limit:".length) : id;
  return `limit ${name} (${group.capacity} at once)`;
}

/** The lines of an edge's label: `1:1`, `all`, `by i` + fixed values, `map`. */
export function edgeLines(edge: ElementEdge): string[] {
  switch (edge.kind) {
    case "one-to-one":
      return ["1:1"];
    case "all":
      return ["all"];
    case "map":
      return ["map"];
    case "expand":
      return ["expands at run time"];
    case "match": {
      // `on` pairs are [producer variable, consumer variable].
      const on = edge.on.map(([p, c]) => (p === c ? p : `${p}→${c}`));
      const lines = [on.length > 0 ? `by ${on.join(", ")}` : "match"];
      const fixed = (values: Readonly<Record<string, string>>, prefix: string) => {
        const entries = Object.keys(values)
          .sort()
          .map((k) => `${k}=${values[k]}`);
        if (entries.length > 0) lines.push(prefix + entries.join(", "));
      };
      fixed(edge.where, "");
      fixed(edge.when, "if ");
      return lines;
    }
    default:
      return unreachable(edge);
  }
}

/** The graph's title: the workflow's name, its size and its workflow-wide cap. */
export function titleLines(plan: Plan): string[] {
  const jobs = plan.tasks.reduce((n, t) => n + (t.jobs ?? 0), 0);
  const dynamic = plan.tasks.some((t) => t.jobs === null);
  const size = `${count(plan.tasks.length, "task")}, ${count(jobs, "job")}${dynamic ? " known (more at run time)" : ""}`;
  return [plan.name, plan.jobs === null ? size : `${size}, at most ${plan.jobs} at once`];
}
