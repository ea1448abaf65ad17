/**
 * Every sample is written twice, in YAML and in TOML, and the two must mean
 * the same workflow: the same data, and after validation the same stages and
 * the same dependency graph. This guards the samples (a fix applied to one
 * file only) and the two front ends (a TOML construct lowered differently).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { Stage } from "../../compiler/lower/ast.js";
import { parseSource } from "../../compiler/source/parse.js";
import { SourceFile } from "../../compiler/source/source-file.js";
import { validateDocument, type ValidateResult } from "../../compiler/validate.js";
import { SAMPLES_DIR, samplesWithBothFormats } from "./samples.js";

const folders = samplesWithBothFormats();

function load(folder: string, format: "yaml" | "toml") {
  const path = join(SAMPLES_DIR, folder, `workflow.${format}`);
  return parseSource(new SourceFile(path, readFileSync(path, "utf8")), format);
}

/** What a stage means, without where it was written. */
function summary(stage: Stage) {
  return {
    name: stage.name,
    action:
      stage.action === undefined
        ? undefined
        : stage.action.kind === "shell"
          ? { kind: "shell", command: stage.action.command.template.source }
          : stage.action.kind === "argv"
            ? { kind: "argv", argv: stage.action.argv.map((a) => a.template.source) }
            : { kind: "fn", module: stage.action.module, exportName: stage.action.exportName },
    fanout: {
      size: stage.fanout.size,
      zip: stage.fanout.zip,
      vars: stage.fanout.vars.map((v) => ({ name: v.name, source: v.source, values: v.values })),
    },
    inputs: stage.inputs.map((d) => ({ name: d.name, source: d.template.source, glob: d.glob })),
    outputs: stage.outputs.map((d) => ({ name: d.name, source: d.template.source, glob: d.glob })),
    after: stage.after.map((r) => r.name),
    limits: stage.limits.map((l) => (l.kind === "named" ? { name: l.name, weight: l.weight } : { cap: l.cap })),
    executor: stage.executor?.name,
    labels: stage.labels,
    settings: { ...stage.settings, env: [...stage.settings.env].map(([k, v]) => [k, v.template.source]) },
  };
}

function graph(result: ValidateResult) {
  const validated = result.validated!;
  return {
    name: validated.workflow.name,
    jobs: validated.workflow.jobs,
    params: [...validated.workflow.params.values()].map((p) => [p.name, p.value]),
    limits: [...validated.workflow.limits.values()].map((l) => [l.name, l.capacity]),
    executors: [...validated.workflow.executors.values()].map((e) => ({
      name: e.name,
      type: e.type,
      max: e.max,
      runs: [...e.runs].sort(),
    })),
    stages: [...validated.workflow.stages.values()].map(summary),
    edges: validated.edges.map((e) => `${e.from} → ${e.to} (${e.kind})`).sort(),
  };
}

describe("samples written in both YAML and TOML", () => {
  test("at least one sample has both formats", () => {
    expect(folders.length).toBeGreaterThan(0);
  });

  describe.each(folders)("%s", (folder) => {
    const yaml = load(folder, "yaml");
    const toml = load(folder, "toml");

    test("parse to the same data", () => {
      expect(yaml.diagnostics).toEqual([]);
      expect(toml.diagnostics).toEqual([]);
      // smol-toml builds null-prototype objects; compare the data, not the prototypes.
      expect(JSON.parse(JSON.stringify(toml.data))).toEqual(JSON.parse(JSON.stringify(yaml.data)));
    });

    test("validate without errors to the same stages and edges", async () => {
      const [fromYaml, fromToml] = await Promise.all([validateDocument(yaml), validateDocument(toml)]);
      expect(fromYaml.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      expect(fromToml.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
      // Warnings too, by code and message (their positions differ, of course).
      expect(fromToml.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual(fromYaml.diagnostics.map((d) => `${d.code} ${d.message}`));
      const a = graph(fromYaml);
      const b = graph(fromToml);
      expect(b.stages.map((s) => s.name)).toEqual(a.stages.map((s) => s.name));
      expect(b.edges).toEqual(a.edges);
      expect(b.edges.length).toBeGreaterThan(0);
      expect(b).toEqual(a);
    });
  });
});
