/**
 * Hand-built plans with a dynamic space (issue 14), to the contract in
 * contract/plan.ts: a split per sample that writes as many chunk files as
 * its input file says, a map per chunk, a gather per sample.
 */
import type { Part, Plan, PlanAction, PlanTask } from "../../contract/plan.js";
import { plan as planOf, task } from "./plans.js";

export const s: Part = { var: "s" };
const c: Part = { var: "c" };
export const path = (...template: Part[]) => ({ name: null, template, glob: false, from: [] });
const from = (t: string, step = t) => [{ task: t, step, output: 0 }];

export function pipeline(samples: string[]): Plan {
  const space = { vars: [{ name: "s", values: samples }], zip: [], size: samples.length };
  const split = task("split", samples.length, {
    space,
    steps: [
      {
        stage: "split",
        action: {
          kind: "shell",
          shell: "bash",
          command: [
            "n=$(cat in/",
            s,
            ".txt); mkdir -p chunks/",
            s,
            '; for i in $(seq 1 "$n"); do echo "$i" > chunks/',
            s,
            '/"$i".txt; done',
          ],
        },
        inputs: [path("in/", s, ".txt")],
        outputs: [path("chunks/", s, "/", c, ".txt")],
        env: {},
        decides: ["c"],
      },
    ],
  });
  const map: PlanTask = task("map", samples.length, {
    space: { ...space, dynamic: { vars: ["c"], from: { kind: "files", task: "split", step: "split", output: 0 }, per: ["s"] } },
    jobs: null,
    steps: [
      {
        stage: "map",
        action: { kind: "shell", shell: "bash", command: ["cat ", { inputs: true }, " ", { inputs: true }, " > ", { outputs: true }] },
        inputs: [{ ...path("chunks/", s, "/", c, ".txt"), from: from("split") }],
        outputs: [path("mapped/", s, "/", c, ".txt")],
        env: {},
      },
    ],
    deps: [{ task: "split", edge: { kind: "expand" }, input: { step: "map", index: 0 } }],
  });
  const merge = task("merge", samples.length, {
    space,
    steps: [
      {
        stage: "merge",
        action: { kind: "shell", shell: "bash", command: ["cat /dev/null ", { inputs: true }, " > ", { outputs: true }] },
        inputs: [{ ...path("mapped/", s, "/*.txt"), glob: true, from: from("map") }],
        outputs: [path("merged/", s, ".txt")],
        env: {},
      },
    ],
    deps: [{ task: "map", edge: { kind: "match", on: [["s", "s"]], where: {}, when: {} }, input: { step: "merge", index: 0 } }],
  });
  return planOf([split, map, merge]);
}

/** `plan` with its `split` step running `action` (a bash command when text), and `extra` on its task. */
export function withSplit(plan: Plan, action: string | PlanAction, extra: Partial<PlanTask> = {}): Plan {
  const run: PlanAction = typeof action === "string" ? { kind: "shell", shell: "bash", command: [action] } : action;
  return { ...plan, tasks: plan.tasks.map((t) => (t.id !== "split" ? t : { ...t, ...extra, steps: [{ ...t.steps[0]!, action: run }] })) };
}
