/**
 * `{cpus}` is scaled down to the cores of the machine a run is on, but a
 * step's hash takes it as the stage declares it: the same workflow run on a
 * machine with fewer (or more) cores is up to date, not "its command
 * changed". Real jobs through run(), with `cores` standing for the machine.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { compileFile } from "../../compiler/compile.js";
import { run } from "../../runtime/run/run.js";
import { fixture } from "../e2e/helpers.js";

test("a run on a machine with other cores re-runs no `{cpus}` step; a changed `cpus` does", async () => {
  const workflow = (cpus: number) => `wfc: 1
stages:
  map:
    foreach: { s: [a, b] }
    outputs: "out/{s}.txt"
    cpus: ${cpus}
    run: "echo -t {cpus} > {outputs}"
  argv:
    outputs: argv.txt
    cpus: ${cpus}
    run: ["sh", "-c", "echo $0 > argv.txt", "t{cpus}"]
`;
  const dir = fixture({ "wf.yaml": workflow(8) });
  const planOf = async () => {
    const compiled = await compileFile(join(dir, "wf.yaml"), { planPath: join(dir, "plan.json") });
    if (compiled.plan === undefined) throw new Error(JSON.stringify(compiled.diagnostics));
    return compiled.plan;
  };
  const plan = await planOf();
  const on = (cores: number) => run(plan, { planDir: dir, config: { cores }, onWarning: () => {} });

  const small = await on(2);
  expect(small.status).toBe("ok");
  expect(readFileSync(join(dir, "out/a.txt"), "utf8")).toBe("-t 2\n");
  expect(readFileSync(join(dir, "argv.txt"), "utf8")).toBe("t2\n");
  // A bigger machine, a smaller one: the same steps, up to date.
  expect(await on(16)).toMatchObject({ status: "ok", done: 0, skipped: 3 });
  expect(await on(1)).toMatchObject({ status: "ok", done: 0, skipped: 3 });

  writeFileSync(join(dir, "wf.yaml"), workflow(4));
  const changed = await run(await planOf(), { planDir: dir, config: { cores: 2 }, onWarning: () => {} });
  expect(changed).toMatchObject({ status: "ok", done: 3, skipped: 0 });
});
