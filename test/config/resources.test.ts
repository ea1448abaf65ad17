/**
 * The config's `[resources.STAGE]` (docs/resources.md): it replaces the
 * stage's own `mem`/`time`/`cpus` and `defaults`', each stage's table whole
 * from the first file that has it (`--config` given more than once: the
 * first wins), shown with its origin, said by `--explain`, a bad value a
 * located schema error, an unknown stage a located warning with a
 * did-you-mean; the plan and the SLURM export request what it says.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { directives, withoutScontrol } from "../slurm/export-helpers.js";
import { fixture, wfc } from "../e2e/helpers.js";

function hermetic(dir: string, env: Record<string, string> = {}) {
  return { cwd: dir, env: { HOME: dir, XDG_CONFIG_HOME: "", XDG_CONFIG_DIRS: join(dir, "site"), WFC_CONFIG: "", ...env } };
}

const WORKFLOW = `wfc: 1
name: res
defaults:
  time: 2h
  mem: 1G
stages:
  align:
    foreach: { i: { range: [0, 3] } }
    outputs: "a/{i}"
    mem: 8G
    cpus: 2
    executor: cluster
    run: "touch {outputs}"
  report:
    inputs: "a/*"
    outputs: r.txt
    executor: cluster
    run: "cat {inputs} > {outputs}"
executors:
  cluster:
    type: slurm
`;

const SUGGESTED = ["# Written by wfc suggest", "", "[resources.align]", 'mem = "384M"', 'time = "5m"', "cpus = 1", ""].join("\n");
const SITE = ["[resources.align]", 'mem = "64G"', "", "[resources.report]", "cpus = 4", ""].join("\n");

describe("[resources.STAGE] in config files", () => {
  test("replaces the stage's own values and defaults'; the first --config has the whole table; the export requests it", async () => {
    const dir = fixture({ "workflow.yaml": WORKFLOW, "suggested.toml": SUGGESTED, "site.toml": SITE });
    const compiled = await wfc(
      ["compile", "workflow.yaml", "--config", "suggested.toml", "--config", "site.toml", "-o", "plan.json"],
      hermetic(dir),
    );
    expect(compiled.stderr).toBe("");
    expect(compiled.exitCode).toBe(0);
    const plan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")) as { tasks: { id: string; resources: unknown }[] };
    const resources = Object.fromEntries(plan.tasks.map((t) => [t.id, t.resources]));
    // align: all three from suggested.toml (site.toml's 64G is not merged in); report: cpus from site.toml, the rest from `defaults`.
    expect(resources).toEqual({ align: { cpus: 1, mem: 384, time: 300 }, report: { cpus: 4, mem: 1024, time: 7200 } });

    const exported = await wfc(["export", "slurm", "workflow.yaml", "-c", "suggested.toml", "-c", "site.toml", "-o", "slurm"], {
      ...hermetic(dir),
      env: { ...hermetic(dir).env, ...withoutScontrol },
    });
    expect(exported.exitCode, exported.stderr).toBe(0);
    expect(directives(join(dir, "slurm"), "align.0")).toEqual(expect.arrayContaining(["--mem=384M", "--time=00:05:00"]));
    expect(directives(join(dir, "slurm"), "align.0").some((d) => d.startsWith("--cpus-per-task"))).toBe(false);
    expect(directives(join(dir, "slurm"), "report.0")).toEqual(
      expect.arrayContaining(["--cpus-per-task=4", "--mem=1024M", "--time=02:00:00"]),
    );

    // The other order: site.toml's align table wins whole (mem 64G; cpus and time the workflow's).
    const swapped = await wfc(["compile", "workflow.yaml", "--config", "site.toml", "--config", "suggested.toml"], hermetic(dir));
    expect(swapped.exitCode).toBe(0);
    const align = (JSON.parse(swapped.stdout) as { tasks: { id: string; resources: unknown }[] }).tasks.find((t) => t.id === "align");
    expect(align!.resources).toEqual({ cpus: 2, mem: 65536, time: 7200 });
  });

  test("--explain and `wfc config show` say where each value came from", async () => {
    const dir = fixture({ "workflow.yaml": WORKFLOW, "suggested.toml": SUGGESTED, "site.toml": SITE });
    const r = await wfc(
      ["compile", "workflow.yaml", "-c", "suggested.toml", "-c", "site.toml", "--explain", "-o", "plan.json"],
      hermetic(dir),
    );
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split("\n");
    const at = lines.indexOf("Resources from config files:");
    expect(lines.slice(at, at + 4)).toEqual([
      "Resources from config files:",
      "  - `align`: mem 384M (the workflow's: 8G), time 5m (the workflow's: 2h), cpus 1 (the workflow's: 2), from suggested.toml:3",
      "  - `report`: cpus 4 (the workflow's: 1), from site.toml:4",
      "Fusion:",
    ]);

    const shown = await wfc(["config", "show", "--config", "suggested.toml", "--config", "site.toml"], hermetic(dir));
    expect(shown.stderr).toBe("");
    expect(shown.exitCode).toBe(0);
    expect(shown.stdout).toMatch(/^# {3}--config +suggested\.toml +loaded\n# {3}--config +site\.toml +loaded\n/m);
    expect(shown.stdout).toContain(
      [
        "[resources.align]  # from suggested.toml:3",
        'mem = "384M"       # from suggested.toml:4',
        'time = "5m"        # from suggested.toml:5',
        "cpus = 1           # from suggested.toml:6",
        "",
        "[resources.report]  # from site.toml:4",
        "cpus = 4            # from site.toml:5",
      ].join("\n"),
    );
    const json = await wfc(["config", "show", "-c", "suggested.toml", "-c", "site.toml", "--format", "json"], hermetic(dir));
    expect(JSON.parse(json.stdout).resources).toEqual({
      align: { value: { mem: "384M", time: "5m", cpus: 1 }, from: { file: "suggested.toml", line: 3, column: 12 } },
      report: { value: { cpus: 4 }, from: { file: "site.toml", line: 4, column: 12 } },
    });
  });

  test("a stage the workflow does not have: a located warning with a did-you-mean, the rest still applies", async () => {
    const dir = fixture({
      "workflow.yaml": WORKFLOW,
      "c.toml": ["[resources.algin]", 'mem = "1G"', "", "[resources.zzz]", "cpus = 2", "", "[resources.report]", "cpus = 3", ""].join("\n"),
    });
    const r = await wfc(["compile", "workflow.yaml", "--config", "c.toml"], hermetic(dir));
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe(
      [
        "c.toml:1:12: warning WFC304: `[resources.algin]` names no stage of workflow `res`; it is ignored",
        " 1 | [resources.algin]",
        "   |            ^^^^^",
        "   = help: did you mean `align`?",
        "",
        "c.toml:4:12: warning WFC304: `[resources.zzz]` names no stage of workflow `res`; it is ignored",
        " 4 | [resources.zzz]",
        "   |            ^^^",
        "   = help: remove the table, or name one of the workflow's stages (`wfc suggest` writes them for the workflow it measured)",
        "",
      ].join("\n"),
    );
    const tasks = (JSON.parse(r.stdout) as { tasks: { id: string; resources: unknown }[] }).tasks;
    expect(tasks.find((t) => t.id === "report")!.resources).toEqual({ cpus: 3, mem: 1024, time: 7200 });
  });

  test("a bad value is a located schema error, and nothing is compiled", async () => {
    const dir = fixture({
      "workflow.yaml": WORKFLOW,
      "c.toml": ["[resources.align]", 'mem = "lots"', "cpus = 0", "gpus = 1", ""].join("\n"),
    });
    const r = await wfc(["compile", "workflow.yaml", "--config", "c.toml", "-o", "plan.json"], hermetic(dir));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("c.toml:2:7: error WFC106:");
    expect(r.stderr).toContain("c.toml:3:8: error WFC105:");
    expect(r.stderr).toContain("c.toml:4:1: error WFC102: unknown key `gpus`");
    expect(r.stdout).toBe("");
  });
});
