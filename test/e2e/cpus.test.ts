/**
 * `{cpus}` in commands, end to end with the built CLI and real jobs: the
 * stage's `cpus` as the executor gives them, in shell strings, argv and
 * `env`; on this machine at most its cores, in a SLURM export exactly what
 * each job asks for (`--cpus-per-task`). Bad uses are in samples/invalid
 * (`cpus-in-path`, `{threads}` in `ported-snakemake-placeholders`).
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { fixture, wfc } from "./helpers.js";

const workflow = `wfc: 1
executors:
  cluster: { type: slurm, cpus: 6 }
stages:
  one:
    outputs: one.txt
    run: "echo {cpus} > {outputs}"
  many:
    cpus: 10000
    outputs: many.txt
    env: { THREADS: "{cpus}", LABEL: "t{cpus}" }
    run: "echo {cpus} $THREADS $LABEL > {outputs}"
  words:
    cpus: 2
    outputs: words.txt
    run: ["sh", "-c", "printf '%s|' \\"$@\\" > words.txt", "sh", "{cpus}", "-t{cpus}"]
  remote:
    executor: cluster
    outputs: remote.txt
    run: "echo {cpus} > {outputs}"
`;

describe("{cpus} in commands", () => {
  test("on this machine: the stage's cpus, at most its cores, in shell strings, env and argv", async () => {
    const dir = fixture({ "wf.yaml": workflow.replace(/ {4}executor: cluster\n/, "") });
    const r = await wfc(["run", "wf.yaml"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const cores = Math.min(10000, availableParallelism());
    expect(readFileSync(join(dir, "one.txt"), "utf8")).toBe("1\n");
    expect(readFileSync(join(dir, "many.txt"), "utf8")).toBe(`${cores} ${cores} t${cores}\n`);
    expect(readFileSync(join(dir, "words.txt"), "utf8")).toBe(
      `${Math.min(2, availableParallelism())}|-t${Math.min(2, availableParallelism())}|`,
    );
    // Without an executor of its own, `remote` ran here too: one cpu.
    expect(readFileSync(join(dir, "remote.txt"), "utf8")).toBe("1\n");
  });

  test("exported to SLURM: exactly what each job asks for, the stage's cpus or its executor's", async () => {
    const dir = fixture({ "wf.yaml": workflow });
    const r = await wfc(["export", "slurm", "wf.yaml", "-o", "export"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const script = (task: string) =>
      Buffer.from(readFileSync(join(dir, "export/tables", `${task}.0.tbl`), "utf8").trim(), "base64").toString("utf8");
    const array = (task: string) => readFileSync(join(dir, "export/arrays", `${task}.0.sh`), "utf8");
    expect(script("many")).toContain("export LABEL=t10000\nexport THREADS=10000\n");
    expect(script("many")).toContain("echo 10000 $THREADS $LABEL > many.txt");
    expect(array("many")).toContain("#SBATCH --cpus-per-task=10000\n");
    expect(script("words")).toContain("sh -c 'printf '\\''%s|'\\'' \"$@\" > words.txt' sh 2 -t2");
    expect(script("one")).toContain("echo 1 > one.txt");
    expect(array("one")).not.toContain("--cpus-per-task");
    expect(script("remote")).toContain("echo 6 > remote.txt");
    expect(array("remote")).toContain("#SBATCH --cpus-per-task=6\n");
  });
});
