import { describePathProblem, globProblem, outputPathProblem, type OutputPathProblem } from "../../contract/paths.js";
import { axesOf } from "../../contract/elements.js";
import type { FanVar, Param, PathDecl, Stage, Workflow } from "../lower/ast.js";
import { varSize, varValue } from "../lower/ast.js";
import { globOutside, linkHint } from "../lower/outside.js";
import type { DiagnosticSink } from "../lower/sink.js";
import type { TemplatePart } from "../lower/template.js";
import type { DataPath } from "../source/document.js";

/**
 * Outputs stay inside the workflow's folder (WFC223, WFC224) and input globs
 * search only inside it (WFC225), for every element: a value `..` in
 * `work/{v}`, or `{a}{b}` with `.` and `.`, is as bad as a literal `../x`.
 * (The runtime checks each job again before it starts: contract/paths.ts.)
 *
 * Linear in the values, not the elements: a value that is a plain name (not
 * empty, no `/`, not starting with `.`) lies inside one path segment and
 * makes it a real name, so it decides nothing, and any one plain value of a
 * variable stands for all of them. Only variables with other values are
 * enumerated, together (a million-element range of integers costs nothing).
 */
export function checkPaths(workflow: Workflow, sink: DiagnosticSink): void {
  for (const stage of workflow.stages.values()) {
    if (stage.fanout.unresolved.length > 0) continue;
    for (const decl of [...stage.outputs, ...stage.logs]) {
      const bad = firstBad(decl, stage, workflow.params, outputPathProblem);
      if (bad !== undefined) reportOutput(decl, stage, bad, sink);
    }
    for (const decl of stage.inputs) {
      if (!decl.glob) continue;
      const bad = firstBad(decl, stage, workflow.params, globProblem);
      if (bad === undefined) continue;
      const subject = `input glob \`${decl.template.source}\` of stage \`${stage.name}\`${resolvedTo(bad)}`;
      globOutside(subject, bad.problem, bad.path, decl.path, sink, { input: true, related: relatedOf(bad) });
    }
  }
}

/** One element's path with a problem, and the placeholder values that made it. */
interface Bad<P> {
  readonly path: string;
  readonly problem: P;
  /** `{ref}` → value, in template order; empty for a literal path. */
  readonly values: readonly (readonly [string, string])[];
  /** The placeholders with values other than plain names: where to look. */
  readonly culprits: readonly Slot[];
  /** Some value comes from a sheet outside the workflow's folder: the path and values are not quoted. */
  readonly outside: boolean;
}

/** A placeholder's values along its axis; one fixed value (axis -1) for params and `{stage}`. */
interface Slot {
  readonly shown: string;
  readonly axis: number;
  readonly value: (i: number) => string;
  /** The foreach variable it reads, or the param. */
  readonly from: { readonly kind: "var"; readonly v: FanVar } | { readonly kind: "param"; readonly p: Param } | { readonly kind: "stage" };
}

/**
 * The first element (in index order) whose expansion of `decl` has a
 * problem, or undefined. Undefined too when a placeholder cannot be resolved
 * here: the placeholder checks report that.
 */
function firstBad<P extends string>(
  decl: PathDecl,
  stage: Stage,
  params: ReadonlyMap<string, Param>,
  problemOf: (path: string) => P | undefined,
): Bad<P> | undefined {
  const { fanout } = stage;
  if (fanout.size === 0) return undefined; // no elements: nothing is written
  // The axes elements are numbered by (contract/elements.ts): each crossed variable is one, the zip group is one.
  const axisOf = axesOf(fanout.vars, fanout.zip);
  const sizes: number[] = [];
  for (const v of fanout.vars) {
    const axis = axisOf.get(v.name)!;
    // Zipped lists of different lengths are reported (WFC246); stay within the shortest.
    sizes[axis] = Math.min(sizes[axis] ?? Infinity, varSize(v.values));
  }

  const parts: (string | Slot)[] = [];
  const slots: Slot[] = [];
  for (const part of decl.template.parts) {
    const slot = slotOf(part, stage, params, axisOf);
    if (slot === null) return undefined;
    parts.push(slot);
    if (typeof slot !== "string" && !slots.some((s) => s.shown === slot.shown)) slots.push(slot);
  }

  // Which axes need enumerating: those where some placeholder has a value other than a plain name.
  const varying = new Set<number>();
  const culprits: Slot[] = [];
  for (const slot of slots) {
    if (slot.axis === -1) {
      if (!isPlainName(slot.value(0))) culprits.push(slot);
      continue;
    }
    const size = sizes[slot.axis]!;
    // Integers are plain names: a range is never enumerated.
    if (slot.from.kind === "var" && slot.from.v.values.kind === "range" && slot.shown === `{${slot.from.v.name}}`) continue;
    for (let i = 0; i < size; i++) {
      if (!isPlainName(slot.value(i))) {
        varying.add(slot.axis);
        culprits.push(slot);
        break;
      }
    }
  }

  // An odometer over the varying axes; the others stay at their first value, which stands for all of theirs.
  const order = [...varying].sort((a, b) => a - b);
  const index = sizes.map(() => 0);
  for (;;) {
    let path = "";
    for (const p of parts) path += typeof p === "string" ? p : p.value(p.axis === -1 ? 0 : index[p.axis]!);
    const problem = problemOf(path);
    if (problem !== undefined) {
      return {
        path,
        problem,
        values: slots.map((s) => [s.shown, s.value(s.axis === -1 ? 0 : index[s.axis]!)] as const),
        culprits,
        outside: slots.some((s) => s.from.kind === "var" && s.from.v.sheet?.outside === true),
      };
    }
    let k = order.length - 1;
    while (k >= 0 && ++index[order[k]!]! === sizes[order[k]!]!) index[order[k--]!] = 0;
    if (k < 0) return undefined;
  }
}

/** Literal text, a placeholder's slot, or null when it does not resolve (reported elsewhere). */
function slotOf(
  part: TemplatePart,
  stage: Stage,
  params: ReadonlyMap<string, Param>,
  axisOf: ReadonlyMap<string, number>,
): string | Slot | null {
  if (part.kind === "text") return part.text;
  const shown = `{${part.field === undefined ? part.root : `${part.root}.${part.field}`}}`;
  if (part.root === "params") {
    const p = part.field === undefined ? undefined : params.get(part.field);
    if (p === undefined || Array.isArray(p.value)) return null;
    const value = String(p.value);
    return { shown, axis: -1, value: () => value, from: { kind: "param", p } };
  }
  if (part.root === "stage") return { shown, axis: -1, value: () => stage.name, from: { kind: "stage" } };
  // A value known only at run time is checked by the runtime; here it stands as a plain name, so the rest of the path is still checked.
  if (
    part.field === undefined &&
    (stage.fanout.dynamic.some((x) => x.name === part.root) || stage.decides.some((d) => d.name === part.root))
  )
    return { shown, axis: -1, value: () => shown, from: { kind: "stage" } };
  const v = stage.fanout.vars.find((x) => x.name === part.root);
  const axis = axisOf.get(part.root);
  if (v === undefined || axis === undefined) return null;
  const from = { kind: "var" as const, v };
  if (part.field === undefined) return { shown, axis, value: (i) => String(varValue(v.values, i)), from };
  const column = v.sheet?.columns.indexOf(part.field) ?? -1;
  if (column === -1) return null;
  return { shown, axis, value: (i) => v.sheet!.rows[i]?.[column] ?? "", from };
}

/** A value that cannot change a path's verdict: it adds a real name to one segment. */
function isPlainName(value: string): boolean {
  return value !== "" && value[0] !== "." && !value.includes("/") && !value.includes("\0");
}

/** `resolves to "…" (with {v} = "…"), which` for a path with placeholders; nothing for a literal one. */
function resolvedTo(bad: Bad<string>): string {
  if (bad.values.length === 0) return "";
  if (bad.outside) return " resolves, with values from a sheet outside the workflow's folder (not quoted), to a path that";
  return ` resolves to ${JSON.stringify(bad.path)} (with ${bad.values.map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(", ")}), which`;
}

/** Where the values that made a bad path come from: foreach variables, params set in the file. */
function relatedOf(bad: Bad<string>): { path: DataPath; message: string; part: "key" }[] {
  const out: { path: DataPath; message: string; part: "key" }[] = [];
  const seen = new Set<string>();
  for (const c of bad.culprits) {
    if (c.from.kind === "stage") continue;
    const name = c.from.kind === "var" ? c.from.v.name : c.from.p.name;
    if (seen.has(name) || (c.from.kind === "param" && c.from.p.overridden)) continue;
    seen.add(name);
    out.push({
      path: c.from.kind === "var" ? c.from.v.path : c.from.p.path,
      message: `\`${name}\` is ${c.from.kind === "var" ? "defined" : "set"} here`,
      part: "key",
    });
  }
  return out;
}

function reportOutput(decl: PathDecl, stage: Stage, bad: Bad<OutputPathProblem>, sink: DiagnosticSink): void {
  const message = `output \`${decl.template.source}\` of stage \`${stage.name}\`${resolvedTo(bad)} ${describePathProblem(bad.problem)}`;
  const vars = [...new Set(bad.culprits.flatMap((c) => (c.from.kind === "var" ? [c.from.v.name] : [])))];
  const names = vars.map((v) => `\`${v}\``).join(" and ");
  const related = relatedOf(bad);
  const base = "wfc creates outputs, and removes them after a failure, only inside the workflow's folder";
  // A literal path elsewhere: the link that would bring its folder in.
  const hint = bad.values.length === 0 ? linkHint(bad.path) : undefined;
  const link = hint && `; to write to ${hint.dir}, link it into the folder (\`${hint.command}\`) and write \`${hint.through}\``;
  if (bad.problem === "absolute") {
    sink.error("WFC224", message, decl.path, {
      expected: "a path relative to the workflow's folder",
      help:
        base +
        (link ?? "; to keep results elsewhere, link that place into the folder (`ln -s /scratch/results results`) and write `results/...`"),
      related,
    });
    return;
  }
  sink.error("WFC223", message, decl.path, {
    expected: bad.problem === "state" ? "a path outside `.wfc/`" : "a path inside the workflow's folder, without `..`",
    help: names !== "" ? `${base}; give ${names} values that name files or folders` : base + (bad.problem === "parent" ? (link ?? "") : ""),
    related,
  });
}
