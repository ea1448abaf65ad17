import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { canonicalJson } from "../../contract/canonical-json.js";
import { PLAN_VERSION, type Plan } from "../../contract/plan.js";
import { SUPPORTED_PLAN_VERSION, loadPlan } from "../../runtime/load-plan.js";
import { fixture } from "../e2e/helpers.js";
import { awkwardPlan, samplePlan } from "./plans.js";

/** Loads `text` written to plan.json in a temp dir; the message, or "ok". */
async function load(text: string): Promise<string> {
  const dir = fixture({ "plan.json": text });
  const r = await loadPlan("plan.json", dir);
  return r.ok ? "ok" : r.message;
}

const edit = (plan: Plan, change: (p: Record<string, unknown>) => void): string => {
  const data = JSON.parse(canonicalJson(plan)) as Record<string, unknown>;
  change(data);
  return JSON.stringify(data);
};

describe("loadPlan", () => {
  test("reads the version the compiler writes", () => {
    expect(SUPPORTED_PLAN_VERSION).toBe(PLAN_VERSION);
  });

  test("a compiled sample and the hand-made plan load as they were written", async () => {
    const plan = await samplePlan("qiime-search");
    const dir = fixture({ "plan.json": canonicalJson(plan), "awkward.json": canonicalJson(awkwardPlan()) });
    expect(await loadPlan("plan.json", dir)).toEqual({ ok: true, plan: JSON.parse(canonicalJson(plan)) });
    expect(await loadPlan(join(dir, "awkward.json"))).toMatchObject({ ok: true });
  });

  test("a byte-order mark is ignored", async () => {
    expect(await load("\uFEFF" + canonicalJson(awkwardPlan()))).toBe("ok");
  });

  test("files that cannot be read, or are not plans", async () => {
    const dir = fixture({});
    mkdirSync(join(dir, "folder"));
    expect(await loadPlan("missing.json", dir)).toEqual({ ok: false, message: "cannot read plan `missing.json`: no such file" });
    expect(await loadPlan("folder", dir)).toEqual({ ok: false, message: "cannot read plan `folder`: it is a directory" });
    expect(await load("")).toBe("`plan.json` is not a wfc plan: it is not valid JSON; plans are written by `wfc compile WORKFLOW -o FILE`");
    expect(await load("[1, 2]")).toBe(
      "`plan.json` is not a wfc plan: it has no `plan` version; plans are written by `wfc compile WORKFLOW -o FILE`",
    );
    expect(await load('{"wfc": 1, "stages": {}}')).toBe(
      "`plan.json` is not a wfc plan: it has no `plan` version; plans are written by `wfc compile WORKFLOW -o FILE`",
    );
  });

  test("another plan version is refused before the schema is consulted", async () => {
    expect(await load('{"plan": 1, "anything": true}')).toBe(
      "`plan.json`: this plan was written by an incompatible wfc (plan version 1); recompile it with `wfc compile`",
    );
    expect(await load('{"plan": 0.5}')).toBe(
      "`plan.json`: this plan was written by an incompatible wfc (plan version 0.5); recompile it with `wfc compile`",
    );
  });

  test("schema errors name the first place that is wrong", async () => {
    const plan = awkwardPlan();
    const bad = async (change: (p: Record<string, unknown>) => void) => load(edit(plan, change));
    expect(await bad((p) => delete p.tasks)).toBe(
      "`plan.json` is not a valid wfc plan: the top level is missing `tasks`; recompile it with `wfc compile`",
    );
    expect(await bad((p) => (p.extra = 1))).toBe(
      "`plan.json` is not a valid wfc plan: the top level has an unknown key `extra`; recompile it with `wfc compile`",
    );
    expect(await bad((p) => ((p.tasks as { jobs: unknown }[])[0]!.jobs = "10"))).toBe(
      "`plan.json` is not a valid wfc plan: `/tasks/0/jobs` must be integer or null; recompile it with `wfc compile`",
    );
    expect(await bad((p) => (p.plan = "1"))).toBe(
      `\`plan.json\` is not a valid wfc plan: \`/plan\` must be ${PLAN_VERSION}; recompile it with \`wfc compile\``,
    );
  });

  test("references the schema cannot check: tasks, steps, executors, groups", async () => {
    const plan = awkwardPlan();
    const withTask = (id: string, change: (t: Plan["tasks"][number]) => Plan["tasks"][number]): string =>
      canonicalJson({ ...plan, tasks: plan.tasks.map((t) => (t.id === id ? change(t) : t)) });
    const tail = "; recompile it with `wfc compile`";
    expect(await load(canonicalJson({ ...plan, tasks: [...plan.tasks, plan.tasks[0]!] }))).toBe(
      `\`plan.json\` is not a valid wfc plan: task \`setup\` appears twice${tail}`,
    );
    expect(await load(withTask("end", (t) => ({ ...t, deps: [{ task: "nope", edge: { kind: "all" }, input: null }] })))).toBe(
      `\`plan.json\` is not a valid wfc plan: task \`end\` depends on task \`nope\`, which the plan does not define${tail}`,
    );
    expect(await load(withTask("end", (t) => ({ ...t, executor: "constructor" })))).toBe(
      `\`plan.json\` is not a valid wfc plan: task \`end\` runs on executor \`constructor\`, which the plan does not define${tail}`,
    );
    expect(await load(withTask("end", (t) => ({ ...t, groups: [{ group: "limit:gone", weight: 1 }] })))).toBe(
      `\`plan.json\` is not a valid wfc plan: task \`end\` holds group \`limit:gone\`, which the plan does not define${tail}`,
    );
    expect(await load(withTask("end", (t) => ({ ...t, stages: ["other"] })))).toBe(
      `\`plan.json\` is not a valid wfc plan: the steps of task \`end\` are not its stages${tail}`,
    );
    expect(
      await load(withTask("end", (t) => ({ ...t, deps: [{ task: "résumé", edge: { kind: "all" }, input: { step: "end", index: 3 } }] }))),
    ).toBe(
      `\`plan.json\` is not a valid wfc plan: task \`end\` has a dependency on input 3 of step \`end\`, which it does not have${tail}`,
    );
  });
});
