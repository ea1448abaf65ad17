import { didYouMean, oneOf } from "../diagnostics/suggest.js";
import type { DynamicVar, PathDecl, Stage, Workflow } from "../lower/ast.js";
import type { DiagnosticSink } from "../lower/sink.js";
import { refsOf } from "../lower/template.js";
import { confirmRead, OutputIndex, type StageEdge } from "./dependencies.js";
import { intersects, literalPrefix, toPattern } from "./pattern.js";

/**
 * Where a dynamic stage's run-time variables come from (issue 14): one
 * producer stage, and the output of it that tells the values, per element
 * of that producer (`per`: its foreach variables, which the consumer has
 * too). The plan's `IndexSpace.dynamic`, in stage terms.
 */
export interface DynamicSource {
  /** The consumer's run-time variables, in foreach order. */
  readonly vars: readonly string[];
  readonly kind: "files" | "lines";
  readonly producer: string;
  /** Index into the producer's outputs. */
  readonly output: number;
  readonly per: readonly string[];
}

/** The decided variables of a stage that are valid (the rest are reported by check/decides.ts). */
export function decidedNames(stage: Stage): string[] {
  const own = new Set([...stage.fanout.vars.map((v) => v.name), ...stage.fanout.dynamic.map((v) => v.name)]);
  return stage.decides.map((d) => d.name).filter((n) => !own.has(n) && !RESERVED.has(n));
}

const RESERVED = new Set(["params", "inputs", "outputs", "log", "stage", "cpus"]);

/** Whether an output names a decided variable of its stage: a pattern, matched 0..n times, not a path. */
export function isPatternOutput(stage: Stage, decl: PathDecl): boolean {
  const decided = decidedNames(stage);
  return decided.length > 0 && refsOf(decl.template).some((r) => r.field === undefined && decided.includes(r.root));
}

/** The first output of a stage that names every decided variable: the one whose listing tells the rows. */
export function tellingOutput(stage: Stage): number {
  const decided = decidedNames(stage);
  return stage.outputs.findIndex((o) => {
    const roots = new Set(refsOf(o.template).map((r) => r.root));
    return decided.every((d) => roots.has(d));
  });
}

/**
 * The `lines` templates, by stage, that some output only looks like: every
 * output whose template could name the file was expanded, element by
 * element, and none does. Such a file is read at compile time instead.
 * (One that cannot be told now, too many elements or values known only at
 * run time, stays read at run time, after the look-alike.)
 */
export function linesReadNow(workflow: Workflow): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  let index: OutputIndex | undefined;
  for (const stage of workflow.stages.values()) {
    for (const v of stage.fanout.dynamic) {
      if (v.source.kind !== "lines") continue;
      index ??= new OutputIndex(workflow);
      const lines = v.source.template;
      const pattern = toPattern(lines.template, workflow.params, false);
      const alike = index.candidates(literalPrefix(pattern)).filter((e) => intersects(pattern, e.pattern));
      const file: PathDecl = { ...lines, name: undefined, glob: false };
      if (alike.length === 0 || alike.some((e) => confirmRead(workflow, e.stage, e.decl, stage, file))) continue;
      out.set(stage.name, (out.get(stage.name) ?? new Set()).add(lines.template.source));
    }
  }
  return out;
}

/**
 * Resolves every dynamic stage's producer and checks the consumer's side of
 * the rules: `from` names a stage deciding that very variable, all of them
 * are taken, the producer's foreach variables are the consumer's static
 * ones, one producer per stage, no `batch`. Also returns an `expand` stage
 * edge per dynamic stage, so cycles and order see it even when the consumer
 * reads nothing of its producer.
 */
export function resolveDynamic(
  workflow: Workflow,
  index: OutputIndex,
  sink: DiagnosticSink,
): { sources: Map<string, DynamicSource>; edges: StageEdge[] } {
  const sources = new Map<string, DynamicSource>();
  const edges: StageEdge[] = [];
  const deciders = [...workflow.stages.values()].filter((s) => s.decides.length > 0).map((s) => s.name);
  for (const stage of workflow.stages.values()) {
    const dynamic = stage.fanout.dynamic;
    if (dynamic.length === 0) continue;
    if (stage.settings.batch > 1) {
      sink.error(
        "WFC277",
        `stage \`${stage.name}\` has \`batch: ${stage.settings.batch}\`, but \`${dynamic[0]!.name}\` is known only at run time`,
        [...stage.path, "batch"],
        {
          expected: "no `batch` (one element per job)",
          help: "its elements are created one producer element at a time, so they cannot be batched; remove `batch`",
          related: [{ path: dynamic[0]!.path, message: `\`${dynamic[0]!.name}\` is defined here`, part: "key" }],
        },
      );
    }
    // Each `from` stage is one source, each `lines` variable another.
    const found: { key: string; v: DynamicVar; producer: Stage; kind: "files" | "lines"; output: number }[] = [];
    let broken = false;
    for (const v of dynamic) {
      if (v.source.kind === "from") {
        const ref = v.source.stage;
        const producer = workflow.stages.get(ref.name);
        if (producer === undefined || producer === stage) {
          sink.error(
            "WFC274",
            producer === stage
              ? `\`${v.name}\` of stage \`${stage.name}\` is \`from\` the stage itself`
              : `\`${v.name}\` of stage \`${stage.name}\` is \`from\` \`${ref.name}\`, which is no stage`,
            ref.path,
            {
              expected: `a stage that decides \`${v.name}\`: ${oneOf(
                deciders.filter((d) => d !== stage.name),
                "no stage has `decides`",
              )}`,
              help:
                didYouMean(ref.name, deciders) ??
                didYouMean(ref.name, workflow.stages.keys()) ??
                `the producer declares \`decides: [${v.name}]\` and names \`{${v.name}}\` in an output`,
              typo: ref.name,
            },
          );
          broken = true;
          continue;
        }
        if (!producer.decides.some((d) => d.name === v.name)) {
          const theirs = decidedNames(producer);
          sink.error(
            "WFC274",
            `\`${v.name}\` of stage \`${stage.name}\` is \`from\` \`${producer.name}\`, which does not decide \`${v.name}\``,
            ref.path,
            {
              expected:
                theirs.length > 0 ? `a variable \`${producer.name}\` decides: ${oneOf(theirs)}` : `a stage with \`decides: [${v.name}]\``,
              help:
                theirs.length > 0
                  ? (didYouMean(v.name, theirs) ?? `rename the variable to one \`${producer.name}\` decides`)
                  : `add \`decides: [${v.name}]\` to \`${producer.name}\` and name \`{${v.name}}\` in its output`,
              related:
                producer.decides.length > 0 ? [{ path: producer.decides[0]!.path, message: `\`${producer.name}\` decides here` }] : [],
            },
          );
          broken = true;
          continue;
        }
        found.push({ key: `from:${producer.name}`, v, producer, kind: "files", output: tellingOutput(producer) });
      } else {
        const lines = v.source.template;
        const pattern = toPattern(lines.template, workflow.params, false);
        const alike = index.candidates(literalPrefix(pattern)).filter((e) => intersects(pattern, e.pattern));
        // Outputs that only look alike (`work/{name}.txt` and `work/{sample}/ids.txt`) are dropped when some element truly writes it;
        // else every look-alike stays its producer, so the file is never silently read at compile time instead.
        const file: PathDecl = { ...lines, name: undefined, glob: false };
        const confirmed = alike.filter((e) => confirmRead(workflow, e.stage, e.decl, stage, file));
        const writers = confirmed.length > 0 ? confirmed : alike;
        const stages = [...new Set(writers.map((w) => w.stage.name))].sort();
        if (stages.length !== 1) {
          if (stages.length > 1) {
            sink.error(
              "WFC278",
              `the \`lines\` file of \`${v.name}\` may be written by stages ${stages.map((s) => `\`${s}\``).join(" and ")}`,
              lines.path,
              {
                expected: "a file one stage writes",
                help: "a run-time variable has one producer: write these files in one stage, or read each stage's files in a stage of its own",
              },
            );
          }
          broken = true;
          continue;
        }
        const w = writers.find((x) => x.stage.name === stages[0])!;
        found.push({ key: `lines:${v.name}`, v, producer: w.stage, kind: "lines", output: w.stage.outputs.indexOf(w.decl) });
      }
    }
    const keys = [...new Set(found.map((f) => f.key))];
    if (keys.length > 1) {
      const second = found.find((f) => f.key !== found[0]!.key)!;
      const what = (f: (typeof found)[number]) =>
        f.kind === "files" ? `\`from: ${f.producer.name}\`` : `the \`lines\` of \`${f.producer.name}\``;
      sink.error(
        "WFC278",
        `stage \`${stage.name}\` takes \`${found[0]!.v.name}\` from ${what(found[0]!)} and \`${second.v.name}\` from ${what(second)}; a stage has at most one producer`,
        second.v.path,
        {
          part: "key",
          help: "its elements are created when one producer element has run; fan out over the second producer in a stage of its own",
          related: [{ path: found[0]!.v.path, message: `\`${found[0]!.v.name}\` is defined here`, part: "key" }],
        },
      );
      continue;
    }
    if (broken || found.length === 0) continue;
    const { producer, kind, output } = found[0]!;
    if (kind === "files") {
      const taken = new Set(found.map((f) => f.v.name));
      const missing = decidedNames(producer).filter((d) => !taken.has(d));
      if (missing.length > 0) {
        sink.error(
          "WFC275",
          `stage \`${stage.name}\` takes ${found.map((f) => `\`${f.v.name}\``).join(", ")} from \`${producer.name}\`, but not ${missing.map((m) => `\`${m}\``).join(", ")}, which \`${producer.name}\` decides too`,
          [...stage.path, "foreach"],
          {
            part: "key",
            expected: `every variable \`${producer.name}\` decides: ${oneOf(decidedNames(producer))}`,
            help: `add ${missing.map((m) => `\`${m}: { from: ${producer.name} }\``).join(", ")} to the foreach: one element per file \`${producer.name}\` wrote`,
          },
        );
        continue;
      }
    }
    const statics = new Set(stage.fanout.vars.map((v) => v.name));
    const per = producer.fanout.vars.map((v) => v.name);
    const lacking = [...per, ...producer.fanout.dynamic.map((v) => v.name)].filter((p) => !statics.has(p));
    if (lacking.length > 0) {
      const late = producer.fanout.dynamic.filter((v) => lacking.includes(v.name)).map((v) => v.name);
      sink.error(
        "WFC275",
        `stage \`${stage.name}\` expands after each element of \`${producer.name}\`, which fans out over ${lacking.map((l) => `\`${l}\``).join(", ")}, but \`${stage.name}\` has no static foreach variable ${lacking.length > 1 ? "named so" : `\`${lacking[0]}\``}`,
        [...stage.path, "foreach"],
        {
          part: "key",
          expected: `foreach variables ${oneOf(per)} known now`,
          help:
            late.length > 0
              ? `\`${late.join("`, `")}\` of \`${producer.name}\` is itself known only at run time, and an expansion inside an expansion is not supported`
              : `add ${lacking.map((l) => `\`${l}\``).join(", ")} to the foreach of \`${stage.name}\` with the same values as in \`${producer.name}\`: that is how an element finds its producer element`,
          related: producer.fanout.vars
            .filter((v) => lacking.includes(v.name))
            .map((v) => ({ path: v.path, message: `\`${v.name}\` of \`${producer.name}\` is defined here`, part: "key" as const })),
        },
      );
      continue;
    }
    if (output === -1) continue; // no output names every decided variable: reported at the producer
    unreadable(workflow, index, stage, producer, dynamic, sink);
    sources.set(stage.name, { vars: dynamic.map((v) => v.name), kind, producer: producer.name, output, per });
    edges.push({ kind: "expand", from: producer.name, to: stage.name, variable: found[0]!.v });
  }
  return { sources, edges };
}

/**
 * An input of a dynamic stage that names a run-time variable but matches
 * no stage's output (`work/chunks/{sample}/{chunk}.fasta` where the split
 * writes `….fa`): no file on disk can be named by a value known only when a
 * job has run, so every element would fail reading it. Said now, at the
 * placeholder, with the producer's output as the likely intent.
 */
function unreadable(
  workflow: Workflow,
  index: OutputIndex,
  stage: Stage,
  producer: Stage,
  dynamic: readonly DynamicVar[],
  sink: DiagnosticSink,
): void {
  const names = new Set(dynamic.map((v) => v.name));
  for (const input of stage.inputs) {
    const ref = input.template.parts.find((p) => p.kind === "ref" && p.field === undefined && names.has(p.root));
    if (ref === undefined || ref.kind !== "ref") continue;
    const pattern = toPattern(input.template, workflow.params, true);
    if (index.candidates(literalPrefix(pattern)).some((e) => intersects(pattern, e.pattern))) continue;
    const told = producer.outputs.find((o) => o.template.parts.some((p) => p.kind === "ref" && names.has(p.root)));
    sink.error(
      "WFC283",
      `input \`${input.template.source}\` of stage \`${stage.name}\` names \`{${ref.root}}\`, known only at run time, but no stage writes such a file`,
      input.path,
      {
        within: { offset: ref.offset, length: ref.length, text: input.template.source },
        expected:
          told === undefined ? `an output of \`${producer.name}\`` : `a path \`${producer.name}\` writes, like \`${told.template.source}\``,
        help: `a file on disk cannot be named by a value only \`${producer.name}\`'s job decides: read what \`${producer.name}\` writes`,
        ...(told === undefined ? {} : { related: [{ path: told.path, message: `\`${producer.name}\` writes this` }] }),
      },
    );
  }
}
