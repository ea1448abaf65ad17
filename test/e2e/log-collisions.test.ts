/**
 * A declared `log` belongs to one job: two jobs writing one log would mix
 * their lines, and a log that is also an output would be kept and removed by
 * the same failure. Both are found before anything runs (WFC251), with the
 * other declaration located, whether the two are in two stages or in one,
 * and whether the templates are equal or only some of their elements meet.
 * The built CLI on temp-dir workflows.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { fixture, wfc } from "./helpers.js";

const validate = async (workflow: string) => {
  const dir = fixture({ "wf.yaml": workflow });
  return { dir, ...(await wfc(["validate", "wf.yaml"], { cwd: dir })) };
};

describe("a log no other job declares and no stage writes", () => {
  test("two stages with one log template: located on the second, the first as a note; `wfc run` runs nothing", async () => {
    const workflow = `wfc: 1
stages:
  map:
    foreach: { sample: [A, B] }
    outputs: "mapped/{sample}.bam"
    log: "logs/{sample}.log"
    run: "echo map > {outputs} 2> {log}"
  sort:
    foreach: { sample: [A, B] }
    inputs: "mapped/{sample}.bam"
    outputs: "sorted/{sample}.bam"
    log: "logs/{sample}.log"
    run: "cat {inputs} > {outputs} 2> {log}"
`;
    const r = await validate(workflow);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      [
        "wf.yaml:12:10: error WFC251: stages `map` and `sort` both write the log `logs/{sample}.log`",
        ' 12 |     log: "logs/{sample}.log"',
        "    |          ^^^^^^^^^^^^^^^^^^^",
        "    = help: two jobs writing one log would mix their lines; give each its own log path (e.g. `logs/{stage}/…`)",
        "    = note: wf.yaml:6:10: `map` declares it here",
        "",
        "1 error in wf.yaml",
      ].join("\n"),
    );
    const run = await wfc(["run", "wf.yaml"], { cwd: r.dir });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("error WFC251");
    expect(existsSync(join(r.dir, "mapped"))).toBe(false);
    expect(existsSync(join(r.dir, ".wfc"))).toBe(false);
  });

  test("a log that is another stage's output, or its own stage's", async () => {
    const other = await validate(`wfc: 1
stages:
  call:
    outputs: calls/all.vcf
    log: calls/all.log
    run: "echo vcf > {outputs} 2> {log}"
  stats:
    inputs: calls/all.vcf
    outputs: calls/all.log
    run: "cat {inputs} > {outputs}"
`);
    expect(other.exitCode).toBe(2);
    expect(other.stderr).toContain(
      "wf.yaml:5:10: error WFC251: the log `calls/all.log` of stage `call` is also an output of stage `stats`\n",
    );
    expect(other.stderr).toContain("   = note: wf.yaml:9:14: `stats` writes it here\n");

    const own = await validate(`wfc: 1
stages:
  call:
    outputs: [calls/all.vcf, calls/all.log]
    log: calls/all.log
    run: "echo vcf > {outputs} 2> {log}"
`);
    expect(own.exitCode).toBe(2);
    expect(own.stderr).toContain("error WFC251: the log `calls/all.log` of stage `call` is also one of its outputs\n");
  });

  test("one stage naming one log twice; templates that differ but meet for some element", async () => {
    const twice = await validate(`wfc: 1
stages:
  map:
    foreach: { sample: [A, B] }
    outputs: "mapped/{sample}.bam"
    log: { bwa: "logs/{sample}.log", samtools: "logs/{sample}.log" }
    run: "echo map > {outputs} 2> {log.bwa}"
`);
    expect(twice.exitCode).toBe(2);
    expect(twice.stderr).toContain("error WFC251: stage `map` writes the log `logs/{sample}.log` twice\n");

    const meet = await validate(`wfc: 1
stages:
  map:
    foreach: { sample: [A, B] }
    outputs: "mapped/{sample}.bam"
    log: "logs/{sample}.log"
    run: "echo map > {outputs} 2> {log}"
  index:
    outputs: genome.idx
    log: logs/A.log
    run: "echo idx > {outputs} 2> {log}"
`);
    expect(meet.exitCode).toBe(2);
    expect(meet.stderr).toContain("error WFC251: stages `map` and `index` both write the log `logs/A.log`\n");

    // `logs/C.log` meets no element of `map`: no error.
    const apart = await validate(`wfc: 1
stages:
  map:
    foreach: { sample: [A, B] }
    outputs: "mapped/{sample}.bam"
    log: "logs/{sample}.log"
    run: "echo map > {outputs} 2> {log}"
  index:
    outputs: genome.idx
    log: logs/C.log
    run: "echo idx > {outputs} 2> {log}"
`);
    expect(apart.exitCode, apart.stderr).toBe(0);
  });
});
