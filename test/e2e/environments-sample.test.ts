/**
 * samples/environments run for real, as its README.txt says (issue 15):
 * its image built by its own build-image.sh and imported into podman, its
 * modulefile found through MODULEPATH; `upper` runs in the container,
 * `count` with the tool the module puts on PATH, `report` on the host.
 * The YAML and the TOML form give the same report, and a second run is up
 * to date.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, expect, test } from "vitest";
import { modulesProblem, podmanProblem, describeIf } from "../env/images.js";
import { repoRoot, wfc } from "./helpers.js";

const sample = join(repoRoot, "samples/environments");
const problem = podmanProblem() ?? modulesProblem();

describeIf(problem, "samples/environments", () => {
  beforeAll(() => {
    execFileSync("sh", [join(sample, "build-image.sh")], { stdio: "ignore" });
  }, 120_000);

  // `count` and `report` fuse: two jobs.
  for (const file of ["workflow.yaml", "workflow.toml"]) {
    test(`${file}: the container stage, the module stage and the plain one make the report; again, all up to date`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "wfc-env-sample-"));
      cpSync(sample, dir, { recursive: true });
      const env = { MODULEPATH: join(dir, "modulefiles") };
      const first = await wfc(["run", file], { cwd: dir, env });
      expect(first.stderr).toMatch(/^ok: 2 done, 0 up to date, 0 failed, 0 not run/m);
      const words = readFileSync(join(dir, "data/words.txt"), "utf8");
      const upper = words.toUpperCase();
      // The tool counts lines and words; what exactly it prints is the sample's: its own script says.
      const counted = execFileSync(join(dir, "tools/wfc-sample-tool/1.0/bin/wfc-sample-tool"), { input: upper, encoding: "utf8" });
      expect(readFileSync(join(dir, "results/report.txt"), "utf8")).toBe(upper + counted);
      const again = await wfc(["run", file], { cwd: dir, env });
      expect(again.stderr).toMatch(/^ok: 0 done, 2 up to date/m);
    });
  }
});
