/**
 * `wfc validate --format github|sarif` through the built CLI: the same
 * diagnostics as `--format json`, as GitHub Actions workflow commands and as a
 * SARIF 2.1.0 log that the official schema accepts, for the valid samples
 * and the whole invalid corpus.
 *
 * Needs `npm run build` first.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { describe, expect, test } from "vitest";
import { validateSarif } from "./sarif-schema.js";
import type { JsonDiagnostic } from "../../compiler/diagnostics/json.js";
import type { SarifLog } from "../../compiler/diagnostics/sarif.js";
import { fixture, repoRoot, wfc } from "./helpers.js";

const corpus = "samples/invalid";
const workflowExtensions = new Set([".yaml", ".yml", ".toml", ".json"]);
const stem = (name: string) => name.slice(0, -extname(name).length);
const argsOf = (name: string) => {
  const file = join(repoRoot, corpus, `${stem(name)}.args`);
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
};
const cases = readdirSync(join(repoRoot, corpus))
  .filter((name) => workflowExtensions.has(extname(name)))
  .sort();
/** The corpus in as few runs as possible: one for every case without extra arguments, one per case with them. */
const runs: string[][] = [
  cases.filter((c) => argsOf(c).length === 0).map((c) => `${corpus}/${c}`),
  ...cases.filter((c) => argsOf(c).length > 0).map((c) => [`${corpus}/${c}`, ...argsOf(c)]),
];
const validSamples = readdirSync(join(repoRoot, "samples"))
  .filter((d) => d !== "invalid")
  .flatMap((d) =>
    ["workflow.yaml", "workflow.toml"].filter((f) => existsSync(join(repoRoot, "samples", d, f))).map((f) => `samples/${d}/${f}`),
  )
  .sort();

async function jsonDiagnostics(args: readonly string[], cwd = repoRoot): Promise<JsonDiagnostic[]> {
  const result = await wfc(["validate", "--format", "json", ...args], { cwd });
  return (JSON.parse(result.stdout) as { files: { diagnostics: JsonDiagnostic[] }[] }).files.flatMap((f) => f.diagnostics);
}

async function sarif(args: readonly string[], cwd = repoRoot) {
  const result = await wfc(["validate", "--format", "sarif", ...args], { cwd });
  return { ...result, log: JSON.parse(result.stdout) as SarifLog };
}

/** The first diagnostic's position in a `.expected` file's header, `FILE:LINE:COL: error …` (`wfc: error …` for the command line). */
function expectedHeader(name: string): { commandLine: boolean; start?: { line: number; column: number } } {
  const text = readFileSync(join(repoRoot, corpus, `${stem(name)}.expected`), "utf8");
  if (text.startsWith("wfc: ")) return { commandLine: true };
  const header = /^[^\n]*?:(\d+):(\d+): (error|warning) WFC/.exec(text);
  return { commandLine: false, ...(header ? { start: { line: Number(header[1]), column: Number(header[2]) } } : {}) };
}

describe("--format sarif", () => {
  test("the SARIF schema in the test rejects what is not SARIF (the check can fail)", () => {
    expect(validateSarif({ version: "2.1.0", runs: [{ tool: { driver: {} } }] })).toBe(false);
  });

  test("the valid samples: a schema-valid log with no errors, exit 0", async () => {
    expect(validSamples.length).toBeGreaterThanOrEqual(8);
    const { exitCode, log, stderr } = await sarif(validSamples);
    expect(validateSarif(log), JSON.stringify(validateSarif.errors)).toBe(true);
    expect(exitCode).toBe(0);
    expect(log.runs[0].results.filter((r) => r.level === "error")).toEqual([]);
    // The summary lines go to stderr; stdout is the log alone.
    for (const s of validSamples) expect(stderr).toContain(`${s}: valid`);
  });

  test.concurrent.for(runs.map((r) => [r[0]!.slice(corpus.length + 1), r] as const))(
    "invalid corpus %s…: schema-valid, the same diagnostics as --format json",
    async ([, args], { expect }) => {
      const [{ exitCode, log, stdout }, json] = await Promise.all([sarif(args), jsonDiagnostics(args)]);
      expect(exitCode).toBe(2);
      expect(validateSarif(log), JSON.stringify(validateSarif.errors)).toBe(true);
      const run = log.runs[0];
      expect(run.tool.driver.name).toBe("wfc");
      expect(run.columnKind).toBe("utf16CodeUnits");
      expect(stdout).not.toMatch(/"\d{4}-\d\d-\d\dT/); // no timestamps: the same input gives the same bytes
      expect(run.tool.driver.rules.map((r) => r.id)).toEqual([...new Set(json.map((d) => d.code))].sort());
      expect(run.results.length).toBe(json.length);
      run.results.forEach((r, i) => {
        const d = json[i]!;
        expect(r.ruleId).toBe(d.code);
        expect(run.tool.driver.rules[r.ruleIndex]!.id).toBe(d.code);
        expect(r.level).toBe(d.severity);
        expect(r.message.text.split("\n")[0]).toBe(d.message);
        const location = r.locations[0]?.physicalLocation;
        expect(location?.artifactLocation.uri).toBe(d.file ?? undefined);
        expect(location?.region ?? null).toEqual(
          d.range === null
            ? null
            : {
                startLine: d.range.start.line,
                startColumn: d.range.start.column,
                endLine: d.range.end.line,
                endColumn: d.range.end.column,
                charOffset: d.range.start.offset,
                charLength: d.range.end.offset - d.range.start.offset,
              },
        );
        expect(
          (r.relatedLocations ?? []).map((l) => [
            l.physicalLocation.artifactLocation.uri,
            l.physicalLocation.region?.startLine ?? null,
            l.message.text,
          ]),
        ).toEqual(d.related.map((l) => [l.file, l.range?.start.line ?? null, l.message]));
      });
      // Each case's first diagnostic is where its .expected file says (a command-line error has no file).
      for (const file of args.filter((a) => a.startsWith(corpus))) {
        const header = expectedHeader(file.slice(corpus.length + 1));
        if (header.commandLine) continue;
        const first = run.results.find((r) => r.locations[0]?.physicalLocation.artifactLocation.uri === file);
        expect(first, file).toBeDefined();
        const region = first!.locations[0]!.physicalLocation.region;
        expect(region === undefined ? undefined : { line: region.startLine, column: region.startColumn }, file).toEqual(header.start);
      }
    },
  );

  test("exact values for one diagnostic: rule, level, text with expected and help, region", async () => {
    const { log } = await sarif([`${corpus}/unknown-limit.yaml`]);
    expect(log).toEqual({
      $schema: "https://json.schemastore.org/sarif-2.1.0.json",
      version: "2.1.0",
      runs: [
        {
          tool: {
            driver: {
              name: "wfc",
              version: expect.stringMatching(/^\d+\.\d+\.\d+/),
              semanticVersion: expect.stringMatching(/^\d+\.\d+\.\d+/),
              informationUri: "https://wfc.dev",
              rules: [{ id: "WFC202", shortDescription: { text: "unknown limit" } }],
            },
          },
          columnKind: "utf16CodeUnits",
          artifacts: [{ location: { uri: `${corpus}/unknown-limit.yaml` } }],
          results: [
            {
              ruleId: "WFC202",
              ruleIndex: 0,
              level: "error",
              message: { text: "unknown limit `ftpp`\nexpected one of the limits under `limits`: `ftp`\nhelp: did you mean `ftp`?" },
              locations: [
                {
                  physicalLocation: {
                    artifactLocation: { uri: `${corpus}/unknown-limit.yaml`, index: 0 },
                    region: { startLine: 12, startColumn: 12, endLine: 12, endColumn: 16, charOffset: 165, charLength: 4 },
                  },
                },
              ],
              // The did-you-mean as a fix (Diagnostic.fixes): `ftpp` replaced by `ftp`.
              fixes: [
                {
                  description: { text: "change `ftpp` to `ftp`" },
                  artifactChanges: [
                    {
                      artifactLocation: { uri: `${corpus}/unknown-limit.yaml`, index: 0 },
                      replacements: [
                        {
                          deletedRegion: { startLine: 12, startColumn: 12, endLine: 12, endColumn: 16, charOffset: 165, charLength: 4 },
                          insertedContent: { text: "ftp" },
                        },
                      ],
                    },
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
  });

  test("paths are relative to the working directory, and byte-identical on a second run", async () => {
    const dir = fixture({
      "sub/wf.yaml": { wfc: 1, stages: { a: { run: "true", limit: "nope" } } },
    });
    const first = await sarif(["sub/wf.yaml"], dir);
    const second = await sarif([join(dir, "sub/wf.yaml")], dir);
    expect(validateSarif(first.log)).toBe(true);
    expect(first.log.runs[0].results[0]!.locations[0]!.physicalLocation.artifactLocation.uri).toBe("sub/wf.yaml");
    // An absolute argument inside the cwd is made relative too.
    expect(second.log.runs[0].results[0]!.locations[0]!.physicalLocation.artifactLocation.uri).toBe("sub/wf.yaml");
    expect((await sarif(["sub/wf.yaml"], dir)).stdout).toBe(first.stdout);
  });
});

describe("--format github", () => {
  test("one workflow command per diagnostic, expected and help after %0A; summary on stderr; exit 2", async () => {
    const result = await wfc(["validate", "--format", "github", `${corpus}/unknown-limit.yaml`]);
    expect(result.stdout).toBe(
      "::error file=samples/invalid/unknown-limit.yaml,line=12,col=12,endLine=12,endColumn=16,title=WFC202::unknown limit `ftpp`%0Aexpected one of the limits under `limits`: `ftp`%0Ahelp: did you mean `ftp`?",
    );
    expect(result.stderr).toBe("1 error in samples/invalid/unknown-limit.yaml");
    expect(result.exitCode).toBe(2);
  });

  test("a warning is ::warning, and a valid file prints no command and exits 0", async () => {
    const dir = fixture({ "wf.yaml": { wfc: 1, limits: { unused: 2 }, stages: { a: { run: "true" } } } });
    const result = await wfc(["validate", "--format", "github", "wf.yaml"], { cwd: dir });
    expect(result.stdout).toMatch(/^::warning file=wf\.yaml,line=\d+,col=\d+,endLine=\d+,endColumn=\d+,title=WFC219::/);
    expect(result.stdout.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toBe("wf.yaml: valid, 1 stage, 1 job (0 errors, 1 warning)");
    expect(result.exitCode).toBe(0);
  });

  test("escapes % in the message and : , in properties, as the runner reads them", async () => {
    const dir = fixture({ "a,b:c.yaml": { wfc: 1, stages: { a: { run: "true", limit: "50%" } } } });
    const result = await wfc(["validate", "--format", "github", "a,b:c.yaml"], { cwd: dir });
    const [line, ...rest] = result.stdout.split("\n");
    expect(rest).toEqual([]);
    expect(line).toMatch(/^::error file=a%2Cb%3Ac\.yaml,line=\d+,/);
    expect(line).toContain("::unknown limit `50%25`");
    expect(line).not.toMatch(/[\r\n]/);
  });

  test("a related location is a note line in the message", async () => {
    const result = await wfc(["validate", "--format", "github", `${corpus}/duplicate-output.yaml`]);
    const json = await jsonDiagnostics([`${corpus}/duplicate-output.yaml`]);
    const related = json.find((d) => d.related.length > 0)!;
    expect(result.stdout).toContain(
      `%0Anote: ${related.related[0]!.file}:${related.related[0]!.range!.start.line}:${related.related[0]!.range!.start.column}: `,
    );
  });

  test.concurrent.for(runs.map((r) => [r[0]!.slice(corpus.length + 1), r] as const))(
    "invalid corpus %s…: a command for each --format json diagnostic, at its range",
    async ([, args], { expect }) => {
      const [result, json] = await Promise.all([wfc(["validate", "--format", "github", ...args]), jsonDiagnostics(args)]);
      expect(result.exitCode).toBe(2);
      const lines = result.stdout === "" ? [] : result.stdout.split("\n");
      expect(lines).toHaveLength(json.length);
      lines.forEach((line, i) => {
        const d = json[i]!;
        const where =
          d.range === null
            ? ""
            : `,line=${d.range.start.line},col=${d.range.start.column},endLine=${d.range.end.line},endColumn=${d.range.end.column}`;
        const file = d.file === null ? "" : `file=${d.file.replace(/%/g, "%25").replace(/:/g, "%3A").replace(/,/g, "%2C")}${where},`;
        expect(line.startsWith(`::${d.severity} ${file}title=${d.code}::`), line).toBe(true);
      });
    },
  );
});
